import { DpnError } from "@dpn/protocol";
import { FINAL_JOB_STATES, JobResponse } from "@dpn/wire";
import { jsonSafe } from "../../json.ts";
import type { ApiPlugin } from "../context.ts";
import { JobParams, requireJobReader } from "./jobs.ts";

/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * GET /v1/jobs/:id/events: a job's view now and on every change, as server-sent events. Each
 * stream holds a socket and a listener until its job ends, so at most `maxEventStreams` are open
 * at once (MAX_EVENT_STREAMS); beyond that the node answers NODE_OVERLOADED (503) before the
 * stream starts, and the client can poll GET /v1/jobs/:id instead. Only the job's requester may
 * follow it (a signed read, checked once when the stream opens); a browser's EventSource cannot set
 * headers, so the token may come as `?dpn-read=` too (api/signedRead.ts).
 */
export const jobEventRoutes: ApiPlugin = async (app, context) => {
  const { bank } = context;
  let open = 0;

  app.get(
    "/v1/jobs/:id/events",
    {
      schema: {
        summary:
          "Server-sent events: `event: job` with the job's view now and on every change of state or progress; the stream ends when the job does.",
        params: JobParams,
        signedRead: "required",
        produces: {
          contentType: "text/event-stream",
          description: "`event: job` blocks whose `data:` is the job's view (JSON).",
          itemSchema: JobResponse,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      // Before the capacity check: a stranger is told 401/403, never how busy the node is.
      await requireJobReader(context, request, id);
      if (open >= context.maxEventStreams) {
        throw new DpnError(
          "NODE_OVERLOADED",
          `The node already serves ${context.maxEventStreams} job event streams.`,
          {
            hint: "Close streams you no longer read, retry later, or poll GET /v1/jobs/{id}.",
            details: { maxEventStreams: context.maxEventStreams },
          },
        );
      }
      const first = await bank.jobView(id); // an unknown job is a JSON 404 before the stream starts
      open += 1;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      let last = "";
      const send = (view: unknown): void => {
        const data = JSON.stringify(jsonSafe(view));
        if (data === last) return;
        last = data;
        raw.write(`event: job\ndata: ${data}\n\n`);
      };
      const heartbeat = setInterval(() => raw.write(": keep-alive\n\n"), HEARTBEAT_MS);
      let stopped = false;
      const stop = (): void => {
        if (stopped) return;
        stopped = true;
        open -= 1;
        clearInterval(heartbeat);
        bank.jobEvents.off("job", onChange);
        raw.end();
      };
      // Views are read one at a time, in order, so a stream never sends an older view last.
      let reading = Promise.resolve();
      const onChange = (jobId: string): void => {
        if (jobId !== id) return;
        reading = reading
          .then(async () => {
            if (stopped) return;
            const view = await bank.jobView(id);
            send(view);
            if (FINAL_JOB_STATES.has(view.state)) stop();
          })
          .catch(() => stop());
      };
      send(first);
      if (FINAL_JOB_STATES.has(first.state)) {
        stop();
        return;
      }
      bank.jobEvents.on("job", onChange);
      request.raw.once("close", stop);
      raw.once("close", stop);
    },
  );
};
