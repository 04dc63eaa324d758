import { useEffect, useState } from "react";
import { ApiError, api, type Job } from "./api.ts";
import type { Polled } from "./usePoll.ts";

/** States a job never leaves (as @dpn/wire's FINAL_JOB_STATES). */
const FINAL_STATES = new Set(["done", "cancelled", "expired", "budget-exhausted", "failed"]);

/**
 * A job, live: the node's server-sent events (GET /v1/jobs/:id/events) push its view on every
 * change of state or progress, so the page updates as fragments settle, without polling. When the
 * stream fails (an unknown id answers 404 before streaming), one plain GET reports why.
 */
export function useJobEvents(id: string, enabled: boolean): Polled<Job> {
  const [state, setState] = useState<Polled<Job>>({
    data: undefined,
    error: undefined,
    updatedMs: undefined,
  });
  useEffect(() => {
    setState({ data: undefined, error: undefined, updatedMs: undefined });
    if (!enabled) return;
    const controller = new AbortController();
    const source = new EventSource(`/v1/jobs/${encodeURIComponent(id)}/events`);
    let received = false;
    source.addEventListener("job", (event) => {
      received = true;
      const job = JSON.parse(String((event as MessageEvent).data)) as Job;
      setState({ data: job, error: undefined, updatedMs: Date.now() });
      // The node ends the stream with the job; closing here stops the browser reconnecting.
      if (FINAL_STATES.has(job.state)) source.close();
    });
    source.onerror = () => {
      if (received && source.readyState !== EventSource.CLOSED) return; // reconnecting
      source.close();
      api.job(id, controller.signal).then(
        (job) => setState({ data: job, error: undefined, updatedMs: Date.now() }),
        (error: unknown) => {
          if (controller.signal.aborted) return;
          const err =
            error instanceof Error ? error : new ApiError("NETWORK", String(error), undefined, 0);
          setState((previous) => ({ ...previous, error: err }));
        },
      );
    };
    return () => {
      controller.abort();
      source.close();
    };
  }, [id, enabled]);
  return state;
}
