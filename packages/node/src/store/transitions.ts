import type { Updateable } from "kysely";
import type { Db } from "./open.ts";
import type { JobState, TaskState, TasksTable } from "./schema.ts";

/**
 * The task state machine (docs/protocol.md §Task states), as data. Every change of a task's state
 * is `UPDATE … WHERE id = ? AND state = ?` (and, for a lease, the device and attempt that hold
 * it), and the caller learns whether exactly one row changed: zero is a lost race — the task was
 * cancelled, re-leased or decided meanwhile — and the caller must act on the task as it is now,
 * never on the row it read before.
 *
 *   waiting ─▶ pending ─▶ leased ─▶ verifying ─▶ settling ─▶ done
 *                 ▲          │           │  └──▶ replicated ─┬▶ settling
 *                 └──────────┴───────────┘                   └▶ outvoted
 *   (and from every state before verifying: cancelled; from pending, leased, verifying: failed)
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  waiting: ["pending", "cancelled"],
  pending: ["leased", "cancelled", "failed"],
  // Back to pending: the lease expired, the device left or its result was refused.
  leased: ["verifying", "pending", "cancelled", "failed"],
  // A result under verification is never cancelled or re-leased: it is decided first.
  verifying: ["settling", "replicated", "pending", "failed"],
  replicated: ["settling", "outvoted", "cancelled"],
  // Failed only when the hold can no longer be captured (expired while the node was down).
  settling: ["done", "failed"],
  done: [],
  outvoted: [],
  cancelled: [],
  failed: [],
};

export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([
  "done",
  "outvoted",
  "cancelled",
  "failed",
]);

/** Tasks that still hold their job open: not final, not waiting for a later round. */
export const RUNNING_TASK_STATES: readonly TaskState[] = [
  "pending",
  "leased",
  "verifying",
  "replicated",
  "settling",
];

/** Tasks a cancellation takes back at once; verifying and settling ones are decided first. */
export const CANCELLABLE_TASK_STATES: readonly TaskState[] = [
  "waiting",
  "pending",
  "leased",
  "replicated",
];

export const JOB_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  funding: ["open", "cancelled", "expired", "budget-exhausted", "failed"],
  open: ["done", "cancelled", "expired", "budget-exhausted", "failed"],
  done: [],
  cancelled: [],
  expired: [],
  "budget-exhausted": [],
  failed: [],
};

/** The lease a transition out of `leased` must still match: the device and its attempt. */
export interface LeaseGuard {
  readonly deviceId: string;
  readonly attempt: number;
}

/**
 * Moves one task from `from` to `to` with the other column changes in `set`; true if this call
 * made the change. A transition the table above does not allow is a programmer error.
 */
export async function transitionTask(
  db: Db,
  taskId: string,
  from: TaskState,
  to: TaskState,
  set: Omit<Updateable<TasksTable>, "state" | "id"> = {},
  lease?: LeaseGuard,
): Promise<boolean> {
  if (!TASK_TRANSITIONS[from].includes(to)) {
    throw new Error(`task transition ${from} → ${to} is not allowed`);
  }
  let query = db
    .updateTable("tasks")
    .set({ ...set, state: to })
    .where("id", "=", taskId)
    .where("state", "=", from);
  if (lease !== undefined) {
    query = query.where("device_id", "=", lease.deviceId).where("attempt", "=", lease.attempt);
  }
  const result = await query.executeTakeFirst();
  const changed = Number(result.numUpdatedRows);
  if (changed > 1) throw new Error(`task transition changed ${changed} rows of ${taskId}`);
  return changed === 1;
}

/** Moves a job from any of `from` to `to`; true if this call made the change. */
export async function transitionJob(
  db: Db,
  jobId: string,
  from: readonly JobState[],
  to: JobState,
  set: { readonly finished_ms?: number | null; readonly failure?: string | null } = {},
): Promise<boolean> {
  for (const state of from) {
    if (!JOB_TRANSITIONS[state].includes(to)) {
      throw new Error(`job transition ${state} → ${to} is not allowed`);
    }
  }
  const result = await db
    .updateTable("jobs")
    .set({ ...set, state: to })
    .where("id", "=", jobId)
    .where("state", "in", from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
