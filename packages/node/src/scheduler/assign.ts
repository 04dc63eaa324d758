import { assignFragments, type Candidate, isEligible, type TaskType } from "@dpn/protocol";
import type { TaskTypeName } from "@dpn/wire";
import type { Core } from "../core.ts";
import type { KindJob, TaskKind } from "../kinds/kind.ts";
import { kindOf } from "../kinds/registry.ts";
import * as jobs from "../store/jobs.ts";
import * as records from "../store/records.ts";
import type { TaskRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";
import type { DeviceSession } from "./session.ts";

/**
 * Assignment (docs/protocol.md §Assignment): pending tasks go to the queues of online devices
 * by the protocol's seeded, geohash-dispersed choice. The seed is the job's with each task's
 * attempt and the candidates are recorded, so anyone can re-run the choice (auditAssignment).
 */

/** Pending tasks read per scheduling pass; the rest wait for the next pass. */
export const MAX_ASSIGN_BATCH = 5_000;

export interface Queues {
  readonly sessions: ReadonlyMap<string, DeviceSession>;
  /** Task id → the device it is queued on. */
  readonly queuedOn: Map<string, DeviceSession>;
}

/** Whether a device offers work of this type and its class and layer may take it. */
export function offers(session: DeviceSession, type: TaskTypeName): boolean {
  return session.taskTypes.includes(type) && isEligible(session, type as TaskType);
}

export async function assignPending(core: Core, queues: Queues): Promise<void> {
  if (queues.sessions.size === 0) return;
  const pending = (await tasks.pendingTasks(core.store.db, MAX_ASSIGN_BATCH)).filter(
    (t) => !queues.queuedOn.has(t.id),
  );
  const byJob = new Map<string, TaskRow[]>();
  for (const task of pending) byJob.set(task.job_id, [...(byJob.get(task.job_id) ?? []), task]);
  for (const [jobId, waiting] of byJob) {
    const row = await jobs.job(core.store.db, jobId);
    if (row === undefined || row.state !== "open") continue;
    const kind = kindOf(core.kinds, row.type);
    const job: KindJob<TaskTypeName> = { row, spec: core.specs.of(row) };
    const all = await tasks.tasksOf(core.store.db, jobId);
    const replicated = new Set(
      all.filter((t) => all.some((o) => o.idx === t.idx && o.id !== t.id)).map((t) => t.idx),
    );
    const single = waiting.filter((t) => !replicated.has(t.idx));
    if (single.length > 0) await assign(core, queues, kind, job, all, single);
    // Replicas of one fragment never run on one device: each is placed with its siblings' known.
    for (const task of waiting.filter((t) => replicated.has(t.idx))) {
      await assign(core, queues, kind, job, all, [task]);
    }
  }
}

async function assign(
  core: Core,
  queues: Queues,
  kind: TaskKind<TaskTypeName>,
  job: KindJob<TaskTypeName>,
  all: readonly TaskRow[],
  batch: readonly TaskRow[],
): Promise<void> {
  const excluded = new Set<string>(batch.flatMap((t) => tasks.excludedOf(t)));
  for (const task of batch) for (const d of siblingDevices(queues, all, task)) excluded.add(d);
  // Devices already holding another task of this job count as holding one (anti-monopoly).
  const holding = new Set(
    all
      .filter((t) => t.state === "leased" && t.device_id !== null)
      .map((t) => t.device_id as string),
  );
  const first = batch[0];
  if (first === undefined) return;
  let candidates: DeviceSession[] = [];
  for (const session of queues.sessions.values()) {
    // A device in cold storage (§4.2) gets no new work until the controller releases it.
    if (session.standby || !offers(session, job.row.type as TaskTypeName)) continue;
    // Nor does a quarantined one (too many refused results) until its quarantine ends.
    if (core.now() < (session.quarantinedUntilMs ?? 0)) continue;
    if (excluded.has(session.deviceId)) continue;
    if (kind.accepts !== undefined && !(await kind.accepts(session, first, job))) continue;
    candidates.push(session);
  }
  // Devices that have asked for work come first; busy ones only if no one is waiting for work.
  const ready = candidates.filter((s) => s.credit > s.queue.length);
  if (ready.length > 0) candidates = ready;
  const fresh = candidates.filter((s) => !holding.has(s.deviceId));
  if (fresh.length >= batch.length) candidates = fresh;
  if (candidates.length === 0) return; // waits for an eligible device
  const input = {
    seed: `${job.row.seed}:${batch.map((t) => `${t.idx}.${t.replica}.${t.attempt}`).join(",")}`,
    fragments: batch.length,
    candidates: candidates.map(
      (s): Candidate => ({
        deviceId: s.deviceId,
        geohash: s.geohash,
        capabilityCuPerSec: s.cuPerSec,
        reputation: s.reputation,
      }),
    ),
  };
  const picks = assignFragments(input);
  await records.recordAssignment(core.store.db, job.row.id, {
    atMs: core.now(),
    tasks: batch.map((t) => t.id),
    input,
    picks: picks.map((p) => p.deviceId),
  });
  for (const pick of picks) {
    const task = batch[pick.fragment];
    const session = queues.sessions.get(pick.deviceId);
    if (task === undefined || session === undefined) continue;
    session.queue.push(task.id);
    queues.queuedOn.set(task.id, session);
  }
}

/** Devices that hold, ran, or are queued for another task of the task's fragment. */
function siblingDevices(queues: Queues, all: readonly TaskRow[], task: TaskRow): Set<string> {
  const devices = new Set<string>();
  for (const sibling of all) {
    if (sibling.idx !== task.idx || sibling.id === task.id) continue;
    if (sibling.device_id !== null) devices.add(sibling.device_id);
    const queued = queues.queuedOn.get(sibling.id);
    if (queued !== undefined) devices.add(queued.deviceId);
  }
  return devices;
}
