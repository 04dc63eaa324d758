import { z } from "zod";
import { JobResult, JobView } from "../jobs.ts";

/**
 * Jobs over HTTP. POST /v1/jobs (201), GET /v1/jobs/{id} and POST /v1/jobs/{id}/cancel answer a
 * JobView; GET /v1/jobs/{id}/result a JobResult; GET /v1/jobs/{id}/events streams JobViews as
 * server-sent events (`event: job`, `data: <JobView>`).
 */
export { JobResult as JobResultResponse, JobView as JobResponse };

/** GET /v1/jobs: the most recent jobs, newest first. */
export const JobListResponse = z.strictObject({ jobs: z.array(JobView) });
export type JobListResponse = z.infer<typeof JobListResponse>;
