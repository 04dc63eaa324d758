import type { Db } from "./open.ts";
import type { TaskRow, TaskState, TasksTable } from "./schema.ts";
import { RUNNING_TASK_STATES } from "./transitions.ts";

/** Reads and inserts of tasks; every change of state goes through transitions.ts. */

export async function insertTasks(db: Db, rows: readonly TasksTable[]): Promise<void> {
  // Chunks keep a statement far below both databases' bind-parameter limits (22 columns each).
  for (let at = 0; at < rows.length; at += 500) {
    await db
      .insertInto("tasks")
      .values(rows.slice(at, at + 500))
      .execute();
  }
}

export function task(db: Db, id: string): Promise<TaskRow | undefined> {
  return db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirst();
}

export function tasksOf(db: Db, jobId: string): Promise<TaskRow[]> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("job_id", "=", jobId)
    .orderBy("idx")
    .orderBy("replica")
    .execute();
}

/** A fragment's tasks: the first and its replicas (or re-executions). */
export function fragmentTasks(db: Db, jobId: string, idx: number): Promise<TaskRow[]> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("job_id", "=", jobId)
    .where("idx", "=", idx)
    .orderBy("replica")
    .execute();
}

export function tasksInState(db: Db, state: TaskState, limit = 10_000): Promise<TaskRow[]> {
  return db.selectFrom("tasks").selectAll().where("state", "=", state).limit(limit).execute();
}

/** Pending tasks, oldest job first: what the scheduler assigns. */
export function pendingTasks(db: Db, limit: number): Promise<TaskRow[]> {
  return db
    .selectFrom("tasks")
    .innerJoin("jobs", "jobs.id", "tasks.job_id")
    .selectAll("tasks")
    .where("tasks.state", "=", "pending")
    .where("jobs.state", "=", "open")
    .orderBy("jobs.created_ms")
    .orderBy("tasks.idx")
    .orderBy("tasks.replica")
    .limit(limit)
    .execute();
}

/** Leased tasks whose lease ended before `nowMs` (the index on state and expiry serves it). */
export function expiredLeases(db: Db, nowMs: number, limit: number): Promise<TaskRow[]> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("state", "=", "leased")
    .where("lease_expires_ms", "<", nowMs)
    .limit(limit)
    .execute();
}

/** A device's leases that have not expired at `nowMs`: what it may fetch inputs for. */
export function currentLeasesOf(
  db: Db,
  deviceId: string,
  nowMs: number,
  limit: number,
): Promise<TaskRow[]> {
  return db
    .selectFrom("tasks")
    .selectAll()
    .where("state", "=", "leased")
    .where("device_id", "=", deviceId)
    .where("lease_expires_ms", ">=", nowMs)
    .limit(limit)
    .execute();
}

/** CU of the work waiting or running now (the burning controller's queue, §4.2). */
export async function openCu(db: Db): Promise<number> {
  const row = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("cu"), eb.lit(0)).as("cu"))
    .where("state", "in", ["pending", "leased", "verifying"])
    .executeTakeFirst();
  return Number(row?.cu ?? 0);
}

/** Whether the job has any task that still holds it open. */
export async function hasRunningTasks(db: Db, jobId: string): Promise<boolean> {
  const row = await db
    .selectFrom("tasks")
    .select("id")
    .where("job_id", "=", jobId)
    .where("state", "in", RUNNING_TASK_STATES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export function excludedOf(task: TaskRow): string[] {
  return JSON.parse(task.excluded_json) as string[];
}

/**
 * What requesters were charged for the tasks paid since `sinceMs` (the clearing feed): the sum of
 * their prices in base units, of their CU, and the newest payment time, over at most `limit`
 * tasks, newest first.
 */
export async function clearedSince(
  db: Db,
  sinceMs: number,
  limit: number,
): Promise<{ priceWei: bigint; cu: number; newestMs: number | undefined }> {
  const rows = await db
    .selectFrom("tasks")
    .select(["price", "cu", "done_ms"])
    .where("state", "=", "done")
    .where("done_ms", ">=", sinceMs)
    .where("price", "is not", null)
    .orderBy("done_ms", "desc")
    .limit(limit)
    .execute();
  let priceWei = 0n;
  let cu = 0;
  for (const row of rows) {
    // A task paid nothing (a price of 0) still cleared: its CU counts at that price.
    priceWei += BigInt(row.price ?? "0");
    cu += row.cu;
  }
  return { priceWei, cu, newestMs: rows[0]?.done_ms ?? undefined };
}
