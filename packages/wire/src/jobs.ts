import { z } from "zod";
import { ClientRef, DpnAmount, TaskId } from "./schemas.ts";
import { JobSpec } from "./tasks/index.ts";

/** Jobs over HTTP (docs/protocol.md §Messages): submission, cancellation and what the node answers. */

export const JobSubmit = z.strictObject({
  spec: JobSpec,
  /** The most the requester will pay; the node holds it and releases what is not spent. */
  budget: DpnAmount,
  /** When the job must be done (ms since epoch); unfinished work is then cancelled. */
  deadlineMs: z.number().int().positive(),
  /** Makes a retried submission return the first job instead of creating a second one. */
  clientRef: ClientRef,
});
export type JobSubmit = z.infer<typeof JobSubmit>;

export const JobCancel = z.strictObject({ jobId: TaskId });

export const JOB_STATES = [
  "funding",
  "open",
  "done",
  "cancelled",
  "expired",
  "budget-exhausted",
  "failed",
] as const;
export const JobState = z.enum(JOB_STATES);
export type JobState = z.infer<typeof JobState>;
/** States a job never leaves. */
export const FINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  "done",
  "cancelled",
  "expired",
  "budget-exhausted",
  "failed",
]);

/** One task of a job as the node reports it. */
export const TaskView = z.strictObject({
  taskId: z.string(),
  index: z.number().int(),
  items: z.number().int(),
  state: z.string(),
  deviceId: z.string().nullable(),
  attempts: z.number().int(),
  price: DpnAmount.nullable(),
  reward: DpnAmount.nullable(),
  /** Why a task failed or was refused, when it did (a stable code). */
  failure: z.optional(z.string()),
  /** Why an accepted task's reward was not minted (EMISSION_POOL_EXHAUSTED), when it was not. */
  rewardWithheld: z.optional(z.string()),
});

/** What the node answers about a job (GET /v1/jobs/{id}); amounts are decimal DPN strings. */
export const JobView = z.strictObject({
  jobId: z.string(),
  state: JobState,
  type: z.string(),
  requester: z.string(),
  items: z.number().int(),
  itemsDone: z.number().int(),
  cu: z.number(),
  quote: DpnAmount,
  budget: DpnAmount,
  spent: DpnAmount,
  cuPerDpn: z.number(),
  /** The assignment seed: with the recorded candidates, anyone can re-run the assignment. */
  seed: z.string(),
  createdMs: z.number(),
  deadlineMs: z.number(),
  finishedMs: z.number().nullable(),
  /** Why the job failed, when it did (a stable code). */
  failure: z.optional(z.string()),
  fragments: z.array(TaskView),
});
export type JobView = z.infer<typeof JobView>;

/** GET /v1/jobs/{id}/result: outputs per item in order, and the kind's merged result if any. */
export const JobResult = z.strictObject({
  jobId: z.string(),
  state: JobState,
  outputs: z.array(z.unknown()),
  result: z.optional(z.unknown()),
});
export type JobResult = z.infer<typeof JobResult>;
