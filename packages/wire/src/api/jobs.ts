import { z } from "zod";
import { JobResult, JobView } from "../jobs.ts";
import { Base64 } from "../schemas.ts";

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

/** One candidate of a recorded assignment: what the protocol's choice read about the device. */
export const AssignmentCandidate = z.strictObject({
  deviceId: z.string(),
  geohash: z.string(),
  capabilityCuPerSec: z.number(),
  reputation: z.number(),
});

/**
 * One recorded assignment (docs/protocol.md §Assignment): the tasks placed, the exact input of
 * the protocol's assignFragments (seed, fragments, candidates) and the devices it picked, in
 * fragment order. Re-running assignFragments on `input` (at the default dispersion precision, the
 * node's) must give `picks` (`dpn job audit`).
 */
export const AssignmentRecord = z.strictObject({
  atMs: z.number().int(),
  tasks: z.array(z.string()),
  input: z.strictObject({
    seed: z.string(),
    fragments: z.number().int(),
    candidates: z.array(AssignmentCandidate),
  }),
  picks: z.array(z.string()),
});
export type AssignmentRecord = z.infer<typeof AssignmentRecord>;

/**
 * What the job's assignment seed was drawn from (docs/protocol.md §Assignment seed): the signed
 * submission as the node received it (the envelope, checked by parseEnvelope, and the keys it
 * came with), the SHA-256 of its signed bytes, and the last ledger epoch sealed before the node
 * accepted the job (epoch 0 and the genesis root while none was sealed). An auditor recomputes
 * the digest from the envelope, checks the signatures, checks the epoch against
 * GET /v1/ledger/epochs/{epoch}, and recomputes the seed (`dpn job audit`).
 */
export const AssignmentSeedInputs = z.strictObject({
  domain: z.string(),
  submission: z.strictObject({
    envelope: z.record(z.string(), z.unknown()),
    keys: z.strictObject({ ed25519PublicKey: Base64, mldsa44PublicKey: Base64 }),
  }),
  submissionDigest: z.string(),
  epoch: z.strictObject({
    epoch: z.number().int().nonnegative(),
    root: z.string(),
    /** When the epoch was sealed; null for the genesis root. */
    sealedAtMs: z.number().int().nullable(),
  }),
});
export type AssignmentSeedInputs = z.infer<typeof AssignmentSeedInputs>;

/** GET /v1/jobs/{id}/assignment: every recorded assignment of the job, oldest first (a signed read). */
export const JobAssignmentResponse = z.strictObject({
  jobId: z.string(),
  requester: z.string(),
  /** When the node accepted the job (ms since 1970): the seed's epoch was the last sealed by then. */
  acceptedAtMs: z.number().int(),
  seed: z.string(),
  /** null for a job accepted before the seed's inputs were recorded (its seed was the node's). */
  seedInputs: AssignmentSeedInputs.nullable(),
  assignments: z.array(AssignmentRecord),
});
export type JobAssignmentResponse = z.infer<typeof JobAssignmentResponse>;
