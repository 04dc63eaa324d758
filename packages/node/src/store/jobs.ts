import type { Db } from "./open.ts";
import type { JobRow, JobState, JobsTable, TasksTable } from "./schema.ts";
import { insertTasks } from "./tasks.ts";

/** Reads and inserts of jobs; every change of state goes through transitions.ts. */

/** A job and its tasks, in one transaction of the caller's. */
export async function insertJob(
  db: Db,
  job: JobsTable,
  tasks: readonly TasksTable[],
): Promise<void> {
  await db.insertInto("jobs").values(job).execute();
  await insertTasks(db, tasks);
}

/** Undoes insertJob for a job that was never acknowledged. */
export async function deleteJob(db: Db, jobId: string): Promise<void> {
  await db.deleteFrom("tasks").where("job_id", "=", jobId).execute();
  await db.deleteFrom("assignments").where("job_id", "=", jobId).execute();
  await db.deleteFrom("job_submissions").where("job_id", "=", jobId).execute();
  await db.deleteFrom("jobs").where("id", "=", jobId).execute();
}

export function job(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
}

export function jobByClientRef(
  db: Db,
  requester: string,
  clientRef: string,
): Promise<JobRow | undefined> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("requester", "=", requester)
    .where("client_ref", "=", clientRef)
    .executeTakeFirst();
}

export function jobsInState(db: Db, state: JobState, limit = 10_000): Promise<JobRow[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("state", "=", state)
    .orderBy("created_ms")
    .limit(limit)
    .execute();
}

/** Open jobs whose deadline has passed. */
export function overdueJobs(db: Db, nowMs: number, limit: number): Promise<JobRow[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("state", "=", "open")
    .where("deadline_ms", "<", nowMs)
    .limit(limit)
    .execute();
}

export function recentJobs(db: Db, limit: number): Promise<JobRow[]> {
  return db.selectFrom("jobs").selectAll().orderBy("created_ms", "desc").limit(limit).execute();
}

/** One requester's most recent jobs (the index on requester and creation time serves it). */
export function recentJobsOf(db: Db, requester: string, limit: number): Promise<JobRow[]> {
  return db
    .selectFrom("jobs")
    .selectAll()
    .where("requester", "=", requester)
    .orderBy("created_ms", "desc")
    .limit(limit)
    .execute();
}

/** How many jobs are in each state: the public aggregate of GET /v1/jobs/summary. */
export async function countByState(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom("jobs")
    .select((eb) => ["state", eb.fn.countAll<number>().as("n")])
    .groupBy("state")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** CU of jobs submitted since `sinceMs` (the demand of §3.1). */
export async function demandCu(db: Db, sinceMs: number): Promise<number> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>("cu"), eb.lit(0)).as("cu"))
    .where("created_ms", ">=", sinceMs)
    .executeTakeFirst();
  return Number(row?.cu ?? 0);
}

export async function setJobKindData(db: Db, jobId: string, data: unknown): Promise<void> {
  await db
    .updateTable("jobs")
    .set({ kind_data: JSON.stringify(data) })
    .where("id", "=", jobId)
    .execute();
}
