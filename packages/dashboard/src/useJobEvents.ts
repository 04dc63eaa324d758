import { CLIENT_STREAM_ENDED, CLIENT_UNREACHABLE, isDpnError, type JobView } from "@dpn/sdk";
import { useEffect, useState } from "react";
import { dpn } from "./api.ts";
import type { Polled } from "./usePoll.ts";

/** Wait before subscribing again after the stream broke (the node restarting, a network drop). */
const RESUBSCRIBE_MS = 2_000;

/** Stream failures that a new subscription can cure; anything else (a 404, a bad id) stays. */
function transient(error: unknown): boolean {
  return isDpnError(error, CLIENT_STREAM_ENDED) || isDpnError(error, CLIENT_UNREACHABLE);
}

/**
 * A job, live: the node's server-sent events (GET /v1/jobs/:id/events, through the SDK) push its
 * view on every change of state or progress, so the page updates as fragments settle, without
 * polling. An unknown job is the node's coded 404, shown as the error. A stream that breaks before
 * the job ends is subscribed again (its first event is the view at that time), keeping the last
 * view on screen with the error meanwhile.
 */
export function useJobEvents(id: string, enabled: boolean): Polled<JobView> {
  const [state, setState] = useState<Polled<JobView>>({
    data: undefined,
    error: undefined,
    updatedMs: undefined,
  });
  useEffect(() => {
    setState({ data: undefined, error: undefined, updatedMs: undefined });
    if (!enabled) return;
    const controller = new AbortController();
    const { signal } = controller;
    const follow = async (): Promise<void> => {
      for (;;) {
        try {
          for await (const job of dpn.jobEvents(id, { signal })) {
            setState({ data: job, error: undefined, updatedMs: Date.now() });
          }
          return; // the job reached a final state
        } catch (error) {
          if (signal.aborted) return;
          const err = error instanceof Error ? error : new Error(String(error));
          setState((previous) => ({ ...previous, error: err }));
          if (!transient(error)) return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RESUBSCRIBE_MS);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          });
        });
        if (signal.aborted) return;
      }
    };
    void follow();
    return () => controller.abort();
  }, [id, enabled]);
  return state;
}
