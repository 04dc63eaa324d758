import { ASSIGNMENT_SEED_DOMAIN, DpnError } from "@dpn/protocol";
import {
  type AssignmentSeedInputs,
  JobAssignmentResponse,
  JobCancel,
  JobListResponse,
  JobResponse,
  JobResultResponse,
  JobSubmit,
  JobSummaryResponse,
} from "@dpn/wire";
import { z } from "zod";
import * as jobs from "../../store/jobs.ts";
import * as records from "../../store/records.ts";
import type { JobRow, JobSubmissionRow } from "../../store/schema.ts";
import * as submissions from "../../store/submissions.ts";
import * as tasks from "../../store/tasks.ts";
import { type ApiContext, type ApiPlugin, answers } from "../context.ts";
import { type ReadRequest, requireOwner, requireReadSigner } from "../signedRead.ts";
import { readSigned, SignedRequest } from "../signedRequest.ts";

/** GET /v1/jobs lists this many of the signer's jobs, newest first: the dashboard's job table. */
const RECENT_JOBS = 100;

export const JobParams = z.strictObject({ id: z.string().max(64) });

/**
 * The job `id`, if the request's read is signed by its requester: READ_UNSIGNED (401) without a
 * signed read, JOB_NOT_FOUND (404) for no such job, READ_FORBIDDEN (403) for someone else's.
 * Shared by the view, the result, the assignment and the event stream, so they cannot drift
 * apart. Returns the job's row.
 */
export async function requireJobReader(
  context: ApiContext,
  request: ReadRequest,
  id: string,
): Promise<JobRow> {
  const signer = requireReadSigner(request, context.signed(), `job ${id}`);
  const row = await jobs.job(context.store.db, id);
  if (row === undefined) {
    throw new DpnError("JOB_NOT_FOUND", `There is no job ${id}.`, {
      hint: "Check the job id returned at submission.",
    });
  }
  requireOwner(signer, row.requester, `Job ${id}`);
  return row;
}

/** Jobs: submission, views, results and cancellation (the event stream is jobEvents.ts). */
export const jobRoutes: ApiPlugin = async (app, context) => {
  const { bank } = context;

  app.post(
    "/v1/jobs",
    {
      schema: {
        summary: "Submit a job.",
        body: SignedRequest,
        signedPayload: { kind: "job.submit", schema: JobSubmit },
        response: answers({ 201: JobResponse }),
      },
    },
    async (request, reply) => {
      const { sender, body, envelope, keys } = readSigned(
        request.body,
        "job.submit",
        JobSubmit,
        context.signed(),
      );
      const view = await bank.submitJob(sender, body, { envelope, keys });
      reply.code(201);
      return view;
    },
  );

  app.get(
    "/v1/jobs",
    {
      schema: {
        summary: "The signer's recent jobs, newest first (a signed read).",
        signedRead: "required",
        response: answers({ 200: JobListResponse }),
      },
    },
    async (request) => {
      const signer = requireReadSigner(request, context.signed(), "the job list");
      const mine = await jobs.recentJobsOf(context.store.db, signer, RECENT_JOBS);
      return { jobs: await Promise.all(mine.map((j) => bank.jobView(j.id))) };
    },
  );

  app.get(
    "/v1/jobs/summary",
    {
      schema: {
        summary: "Jobs by state and the CU open now: aggregates anyone may read.",
        response: answers({ 200: JobSummaryResponse }),
      },
    },
    async () => ({
      jobs: await jobs.countByState(context.store.db),
      openCu: await tasks.openCu(context.store.db),
    }),
  );

  app.get(
    "/v1/jobs/:id",
    {
      schema: {
        summary: "A job's state, fragments, devices and spend (a signed read by its requester).",
        params: JobParams,
        signedRead: "required",
        response: answers({ 200: JobResponse }),
      },
    },
    async (request) => {
      await requireJobReader(context, request, request.params.id);
      return bank.jobView(request.params.id);
    },
  );

  app.get(
    "/v1/jobs/:id/result",
    {
      schema: {
        summary:
          "The outputs of a job's finished fragments, in item order (a signed read by its requester).",
        params: JobParams,
        signedRead: "required",
        response: answers({ 200: JobResultResponse }),
      },
    },
    async (request) => {
      await requireJobReader(context, request, request.params.id);
      return bank.jobResult(request.params.id);
    },
  );

  app.get(
    "/v1/jobs/:id/assignment",
    {
      schema: {
        summary:
          "Every recorded assignment of a job's tasks: the protocol's input and the devices it picked, to re-run, and what the job's seed was drawn from, to recompute (a signed read by its requester).",
        params: JobParams,
        signedRead: "required",
        response: answers({ 200: JobAssignmentResponse }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const row = await requireJobReader(context, request, id);
      const submission = await submissions.submissionOf(context.store.db, id);
      return {
        jobId: id,
        requester: row.requester,
        acceptedAtMs: row.created_ms,
        seed: row.seed,
        seedInputs: submission === undefined ? null : seedInputsOf(submission),
        assignments: (await records.assignments(
          context.store.db,
          id,
        )) as JobAssignmentResponse["assignments"],
      };
    },
  );

  app.post(
    "/v1/jobs/:id/cancel",
    {
      schema: {
        summary: "Cancel a job and release its unspent budget.",
        params: JobParams,
        body: SignedRequest,
        signedPayload: { kind: "job.cancel", schema: JobCancel },
        response: answers({ 200: JobResponse }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { sender, body } = readSigned(request.body, "job.cancel", JobCancel, context.signed());
      if (body.jobId !== id) {
        throw new DpnError("MESSAGE_INVALID", "The signed job id differs from the path.", {
          hint: "Sign the id of the job you cancel.",
        });
      }
      return bank.cancelJob(sender, id);
    },
  );
};

/** The stored submission as the seed inputs of the assignment record (§Assignment seed). */
function seedInputsOf(row: JobSubmissionRow): AssignmentSeedInputs {
  return {
    domain: ASSIGNMENT_SEED_DOMAIN,
    submission: {
      // Written by this node from an envelope parseEnvelope accepted.
      envelope: JSON.parse(row.envelope_json) as Record<string, unknown>,
      keys: { ed25519PublicKey: row.ed25519_public_key, mldsa44PublicKey: row.mldsa44_public_key },
    },
    submissionDigest: row.digest,
    epoch: { epoch: row.epoch, root: row.epoch_root, sealedAtMs: row.epoch_sealed_ms },
  };
}
