import {
  CLIENT_STREAM_ENDED,
  CLIENT_UNREACHABLE,
  type DpnClient,
  isDpnError,
  type JobView,
} from "@dpn/sdk";
import { FINAL_JOB_STATES } from "@dpn/wire";

/** The node's answer when it has no room for another event stream (it asks clients to poll). */
const NODE_OVERLOADED = "NODE_OVERLOADED";

/** Wait before subscribing again after the stream broke (the node restarting, a network drop). */
export const RESUBSCRIBE_MS = 2_000;

export interface FollowOptions {
  readonly signal: AbortSignal;
  /** Every view of the job, in order. */
  readonly onView: (job: JobView) => void;
  /** A failure; the last view stays valid. Followed by a retry unless it is final (see below). */
  readonly onError: (error: Error) => void;
  readonly retryMs?: number;
}

/** Stream failures that a new subscription can cure; anything else (a 404, a bad id) is final. */
function transient(error: unknown): boolean {
  return isDpnError(error, CLIENT_STREAM_ENDED) || isDpnError(error, CLIENT_UNREACHABLE);
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Follows a job until it reaches a final state, the signal aborts, or a failure that retrying
 * cannot cure (the node's JOB_NOT_FOUND, a response that breaks the schema). Views come from the
 * job's event stream; a stream that breaks is subscribed again after `retryMs` (its first event is
 * the view at that time), and while the node has no room for another stream (NODE_OVERLOADED) the
 * job is read with a plain GET at that pace instead.
 */
export async function followJob(
  client: DpnClient,
  jobId: string,
  options: FollowOptions,
): Promise<void> {
  const { signal, onView, onError } = options;
  const retryMs = options.retryMs ?? RESUBSCRIBE_MS;
  const report = (error: unknown): void =>
    onError(error instanceof Error ? error : new Error(String(error)));
  for (;;) {
    try {
      for await (const job of client.jobEvents(jobId, { signal })) onView(job);
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (isDpnError(error, NODE_OVERLOADED)) {
        try {
          const job = await client.job(jobId, { signal });
          onView(job);
          if (FINAL_JOB_STATES.has(job.state)) return;
        } catch (readError) {
          if (signal.aborted) return;
          report(readError);
          if (!transient(readError) && !isDpnError(readError, NODE_OVERLOADED)) return;
        }
      } else {
        report(error);
        if (!transient(error)) return;
      }
    }
    await wait(retryMs, signal);
    if (signal.aborted) return;
  }
}
