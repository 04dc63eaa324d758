import type { DpnClient, JobView } from "@dpn/sdk";
import { useEffect, useState } from "react";
import { followJob } from "./followJob.ts";
import type { Polled } from "./usePoll.ts";

/**
 * A job, live: the node's server-sent events (GET /v1/jobs/:id/events, through the SDK) push its
 * view on every change of state or progress, so the page updates as fragments settle, without
 * polling. An unknown job is the node's coded 404, someone else's its 403 (READ_FORBIDDEN), shown
 * as the error; a broken stream is followed again (followJob.ts), keeping the last view on screen
 * with the error meanwhile. `client` signs the reads: the requester's (api.ts Reader).
 */
export function useJobEvents(id: string, client: DpnClient, enabled: boolean): Polled<JobView> {
  const [state, setState] = useState<Polled<JobView>>({
    data: undefined,
    error: undefined,
    updatedMs: undefined,
  });
  useEffect(() => {
    setState({ data: undefined, error: undefined, updatedMs: undefined });
    if (!enabled) return;
    const controller = new AbortController();
    void followJob(client, id, {
      signal: controller.signal,
      onView: (job) => setState({ data: job, error: undefined, updatedMs: Date.now() }),
      onError: (error) => setState((previous) => ({ ...previous, error })),
    });
    return () => controller.abort();
  }, [id, client, enabled]);
  return state;
}
