import { z } from "zod";
import { JobResult, JobView } from "../jobs.ts";

/**
 * Jobs over HTTP. POST /v1/jobs (201), GET /v1/jobs/{id} and POST /v1/jobs/{id}/cancel answer a
 * JobView; GET /v1/jobs/{id}/result a JobResult; GET /v1/jobs/{id}/events streams JobViews as
 * server-sent events (`event: job`, `data: <JobView>`).
 */
export { JobResult as JobResultResponse, JobView as JobResponse };

/** GET /v1/jobs: the signer's most recent jobs, newest first (a signed read). */
export const JobListResponse = z.strictObject({ jobs: z.array(JobView) });
export type JobListResponse = z.infer<typeof JobListResponse>;

/**
 * GET /v1/jobs/summary: what anyone may know about the node's jobs, as aggregates only (a job,
 * its result and its events are its requester's; docs/adr/0015-signed-reads.md).
 */
export const JobSummaryResponse = z.strictObject({
  /** Jobs by state (states without jobs are absent). */
  jobs: z.record(z.string(), z.number().int().nonnegative()),
  /** CU of the tasks waiting, queued or running now. */
  openCu: z.number().nonnegative(),
});
export type JobSummaryResponse = z.infer<typeof JobSummaryResponse>;
