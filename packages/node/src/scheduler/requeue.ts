import type { Core } from "../core.ts";
import { releaseHolds } from "../jobs/funding.ts";
import { MAX_TASK_ATTEMPTS } from "../limits.ts";
import type { TaskRow } from "../store/schema.ts";
import { excludedOf } from "../store/tasks.ts";
import { type LeaseGuard, transitionTask } from "../store/transitions.ts";

export const TASK_ATTEMPTS_EXHAUSTED = "TASK_ATTEMPTS_EXHAUSTED";

/**
 * A lease ended without an accepted result (it expired, its device left, or its result was
 * refused): the task goes back to pending for another device, or, after MAX_TASK_ATTEMPTS
 * leases, fails (TASK_ATTEMPTS_EXHAUSTED) and its hold is released. `exclude` names a device
 * that must not get the task again (it returned a wrong result). Guarded by the lease: if the
 * task moved on meanwhile, nothing changes ("lost").
 */
export async function returnTask(
  core: Core,
  task: TaskRow,
  from: "leased" | "verifying",
  lease: LeaseGuard,
  exclude?: string,
): Promise<"requeued" | "failed" | "lost"> {
  const excluded = excludedOf(task);
  if (exclude !== undefined && !excluded.includes(exclude)) excluded.push(exclude);
  if (task.attempt >= MAX_TASK_ATTEMPTS) {
    const failed = await transitionTask(
      core.store.db,
      task.id,
      from,
      "failed",
      {
        lease_expires_ms: null,
        failure: TASK_ATTEMPTS_EXHAUSTED,
        excluded_json: JSON.stringify(excluded),
      },
      lease,
    );
    if (!failed) return "lost";
    core.log("warn", "task failed: out of attempts", { taskId: task.id, attempts: task.attempt });
    await releaseHolds(core.ledger, [task]);
    await core.settlement.taskFailed(task.id);
    return "failed";
  }
  const requeued = await transitionTask(
    core.store.db,
    task.id,
    from,
    "pending",
    {
      device_id: null,
      lease_expires_ms: null,
      lease_started_ms: null,
      excluded_json: JSON.stringify(excluded),
    },
    lease,
  );
  if (!requeued) return "lost";
  core.scheduler.schedule();
  return "requeued";
}
