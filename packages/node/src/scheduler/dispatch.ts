import type { Lease, TaskTypeName } from "@dpn/wire";
import type { Core } from "../core.ts";
import { kindOf } from "../kinds/registry.ts";
import * as jobs from "../store/jobs.ts";
import * as tasks from "../store/tasks.ts";
import { transitionTask } from "../store/transitions.ts";
import type { Queues } from "./assign.ts";
import type { DeviceSession } from "./session.ts";

/**
 * Dispatch: a device that has asked for work (credit from device.ready) is sent the tasks queued
 * for it, one frame per device. Each lease is the guarded change pending → leased with the
 * device and the next attempt, so a task is never leased twice. Returns whether any queued task
 * was refused at the last moment (it needs another assignment).
 */
export async function dispatchTo(
  core: Core,
  queues: Queues,
  session: DeviceSession,
): Promise<boolean> {
  let refused = false;
  const leases: Lease[] = [];
  const nowMs = core.now();
  while (session.credit > 0 && session.queue.length > 0) {
    const taskId = session.queue.shift() as string;
    queues.queuedOn.delete(taskId);
    const task = await tasks.task(core.store.db, taskId);
    if (task === undefined || task.state !== "pending") continue;
    const row = await jobs.job(core.store.db, task.job_id);
    if (row === undefined || row.state !== "open") continue;
    const kind = kindOf(core.kinds, row.type);
    const job = { row, spec: core.specs.of(row) };
    // What the device was chosen for may have changed since (a privacy budget spent meanwhile).
    if (kind.accepts !== undefined && !(await kind.accepts(session, task, job))) {
      core.log("warn", "a queued task no longer suits its device; reassigning", {
        taskId,
        deviceId: session.deviceId,
      });
      refused = true;
      continue;
    }
    const attempt = task.attempt + 1;
    const leaseExpiresAtMs = nowMs + core.leaseMs;
    const leased = await transitionTask(core.store.db, taskId, "pending", "leased", {
      device_id: session.deviceId,
      attempt,
      lease_expires_ms: leaseExpiresAtMs,
      lease_started_ms: nowMs,
    });
    if (!leased) continue;
    const leasedRow = { ...task, state: "leased" as const, device_id: session.deviceId, attempt };
    try {
      await kind.leased?.(session, leasedRow, job);
      const body = await kind.lease(leasedRow, job);
      leases.push({
        taskId,
        jobId: row.id,
        type: row.type as TaskTypeName,
        leaseExpiresAtMs,
        artifacts: { ...body.artifacts },
        items: body.items,
      } as Lease);
    } catch (error) {
      // A kind that cannot build its lease is a bug: the task goes back, the node carries on.
      core.log("warn", "could not build a lease", { taskId, error: String(error) });
      await transitionTask(
        core.store.db,
        taskId,
        "leased",
        "pending",
        { device_id: null, lease_expires_ms: null, lease_started_ms: null },
        { deviceId: session.deviceId, attempt },
      );
      continue;
    }
    session.leased.set(taskId, { attempt, startedMs: nowMs });
    session.credit -= 1;
  }
  if (leases.length > 0) session.send("node.leases", { leases });
  return refused;
}
