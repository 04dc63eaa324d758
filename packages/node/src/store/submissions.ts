import type { Db } from "./open.ts";
import type { JobSubmissionRow, JobSubmissionsTable } from "./schema.ts";

/**
 * A job's signed submission and the sealed epoch its assignment seed read (docs/protocol.md
 * §Assignment seed), written with the job in one transaction and served by
 * GET /v1/jobs/{id}/assignment.
 */
export async function insertSubmission(db: Db, row: JobSubmissionsTable): Promise<void> {
  await db.insertInto("job_submissions").values(row).execute();
}

export function submissionOf(db: Db, jobId: string): Promise<JobSubmissionRow | undefined> {
  return db
    .selectFrom("job_submissions")
    .selectAll()
    .where("job_id", "=", jobId)
    .executeTakeFirst();
}
