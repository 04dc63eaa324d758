import { DpnError } from "@dpn/protocol";
import { JobCancel, JobListResponse, JobResponse, JobResultResponse, JobSubmit } from "@dpn/wire";
import { z } from "zod";
import * as jobs from "../../store/jobs.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { readSigned, SignedRequest } from "../signedRequest.ts";

/** GET /v1/jobs lists this many, newest first: what the dashboard's job table shows. */
const RECENT_JOBS = 100;

export const JobParams = z.strictObject({ id: z.string().max(64) });

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
      const { sender, body } = readSigned(request.body, "job.submit", JobSubmit, context.signed());
      const view = await bank.submitJob(sender, body);
      reply.code(201);
      return view;
    },
  );

  app.get(
    "/v1/jobs",
    { schema: { summary: "Recent jobs.", response: answers({ 200: JobListResponse }) } },
    async () => ({
      jobs: await Promise.all(
        (await jobs.recentJobs(context.store.db, RECENT_JOBS)).map((j) => bank.jobView(j.id)),
      ),
    }),
  );

  app.get(
    "/v1/jobs/:id",
    {
      schema: {
        summary: "A job's state, fragments, devices and spend.",
        params: JobParams,
        response: answers({ 200: JobResponse }),
      },
    },
    async (request) => bank.jobView(request.params.id),
  );

  app.get(
    "/v1/jobs/:id/result",
    {
      schema: {
        summary: "The outputs of a job's finished fragments, in item order.",
        params: JobParams,
        response: answers({ 200: JobResultResponse }),
      },
    },
    async (request) => bank.jobResult(request.params.id),
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
