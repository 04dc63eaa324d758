import { DpnError } from "@dpn/protocol";
import { FINAL_JOB_STATES, JobResponse, type JobView } from "@dpn/wire";
import { type CallOptions, CLIENT_RESPONSE_INVALID, type Http, parseResponse } from "./http.ts";
import { EventTooLargeError, readServerSentEvents } from "./serverSentEvents.ts";

/** The job's event stream ended (or broke) before the job reached a final state. */
export const CLIENT_STREAM_ENDED = "CLIENT_STREAM_ENDED";

/**
 * GET /v1/jobs/{id}/events: `event: job` with the job's view now and on every change; the node
 * ends the stream after a final state. An unknown job is the node's JSON 404 before any event;
 * someone else's job, or a read without an identity, the node's 403 or 401.
 */
export async function* jobEvents(
  http: Http,
  jobId: string,
  options: CallOptions,
  readHeaders: (path: string) => Record<string, string> = () => ({}),
): AsyncGenerator<JobView, void, undefined> {
  const path = `/v1/jobs/${encodeURIComponent(jobId)}/events`;
  const response = await http.send("GET", path, {
    // The read is signed once, for the stream's start: the node checks it when the stream opens.
    headers: { accept: "text/event-stream", ...readHeaders(path) },
    signal: options.signal,
  });
  if (!response.ok) throw await http.refusal("GET", path, response);
  if (response.body === null) throw ended(jobId, path, undefined);
  const events = readServerSentEvents(response.body);
  // Closing the reader on every way out (a final state, an error, the caller's break) closes the
  // connection, so the node stops streaming to nobody.
  try {
    for (;;) {
      let next: IteratorResult<{ event: string; data: string }>;
      try {
        next = await events.next();
      } catch (error) {
        if (options.signal?.aborted === true) throw options.signal.reason;
        if (error instanceof EventTooLargeError) {
          throw new DpnError(CLIENT_RESPONSE_INVALID, `GET ${path}: ${error.message}`, {
            hint: "The node and this SDK speak different versions of the API; upgrade the older one.",
            details: { method: "GET", path },
          });
        }
        throw ended(jobId, path, error);
      }
      if (next.done === true) throw ended(jobId, path, undefined);
      if (next.value.event !== "job") continue;
      let json: unknown;
      try {
        json = JSON.parse(next.value.data);
      } catch (error) {
        throw new DpnError(CLIENT_RESPONSE_INVALID, `GET ${path} sent an event that is not JSON.`, {
          hint: "Check that the URL points at a DPN node.",
          details: { method: "GET", path },
          cause: error,
        });
      }
      const view = parseResponse(JobResponse, json, "GET", path);
      yield view;
      if (FINAL_JOB_STATES.has(view.state)) return;
    }
  } finally {
    await events.return(undefined);
  }
}

function ended(jobId: string, path: string, cause: unknown): DpnError {
  return new DpnError(
    CLIENT_STREAM_ENDED,
    `The event stream of job ${jobId} ended before the job did.`,
    {
      hint: "Subscribe again: the first event is the job's view at that time.",
      details: { method: "GET", path },
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
