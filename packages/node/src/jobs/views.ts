import { DpnError, formatDpn } from "@dpn/protocol";
import type { JobResult, JobView } from "@dpn/wire";
import type { Core } from "../core.ts";
import { kindOf } from "../kinds/registry.ts";
import * as jobs from "../store/jobs.ts";
import type { JobRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";

/** What the node answers about a job: its view (state, tasks, spend) and its result. */

export async function requireJob(core: Core, jobId: string): Promise<JobRow> {
  const job = await jobs.job(core.store.db, jobId);
  if (job === undefined) {
    throw new DpnError("JOB_NOT_FOUND", `There is no job ${jobId}.`, {
      hint: "Check the job id returned at submission.",
    });
  }
  return job;
}

export async function jobView(core: Core, jobId: string): Promise<JobView> {
  const job = await requireJob(core, jobId);
  const rows = await tasks.tasksOf(core.store.db, jobId);
  let spent = 0n;
  // Replicas share their fragment's items: count each fragment once.
  const fragmentItems = new Map<number, number>();
  const doneFragments = new Set<number>();
  for (const task of rows) {
    if (task.state === "done" && task.price !== null) spent += BigInt(task.price);
    fragmentItems.set(task.idx, task.item_to - task.item_from);
    if (task.state === "done") doneFragments.add(task.idx);
  }
  let itemsDone = 0;
  for (const idx of doneFragments) itemsDone += fragmentItems.get(idx) ?? 0;
  return {
    jobId,
    state: job.state,
    type: job.type,
    requester: job.requester,
    items: [...fragmentItems.values()].reduce((n, items) => n + items, 0),
    itemsDone,
    cu: job.cu,
    quote: formatDpn(BigInt(job.quote)),
    budget: job.budget,
    spent: formatDpn(spent),
    cuPerDpn: job.cu_per_dpn,
    seed: job.seed,
    createdMs: job.created_ms,
    deadlineMs: job.deadline_ms,
    finishedMs: job.finished_ms,
    ...(job.failure === null ? {} : { failure: job.failure }),
    fragments: rows.map((t) => ({
      taskId: t.id,
      index: t.idx,
      items: t.item_to - t.item_from,
      state: t.state,
      deviceId: t.device_id,
      attempts: t.attempt,
      price: t.state === "done" && t.price !== null ? formatDpn(BigInt(t.price)) : null,
      reward: t.state === "done" && t.reward !== null ? formatDpn(BigInt(t.reward)) : null,
      ...(t.failure === null ? {} : { failure: t.failure }),
      ...(t.reward_withheld === null ? {} : { rewardWithheld: t.reward_withheld }),
    })),
  };
}

/** The job's outputs in item order, and its kind's merged result when it has one. */
export async function jobResult(core: Core, jobId: string): Promise<JobResult> {
  const job = await requireJob(core, jobId);
  const kind = kindOf(core.kinds, job.type);
  const rows = await tasks.tasksOf(core.store.db, jobId);
  const { outputs, result } = await kind.result({ row: job, spec: core.specs.of(job) }, rows);
  return { jobId, state: job.state, outputs, ...(result === undefined ? {} : { result }) };
}
