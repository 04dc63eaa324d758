import { useEffect, useRef, useState } from "react";

/** How often live pages refresh: the node settles fragments within a second or two. */
export const POLL_MS = 1_000;

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  /** Time of the last successful answer (ms since 1970). */
  readonly updatedMs: number | undefined;
}

/**
 * Loads `load` now and every `periodMs` while mounted (0: once). A request still in flight is
 * aborted on unmount or when `key` changes, and a slow answer never overwrites a newer one.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
  periodMs = POLL_MS,
): Polled<T> {
  const [state, setState] = useState<Polled<T>>({
    data: undefined,
    error: undefined,
    updatedMs: undefined,
  });
  const loadRef = useRef(load);
  loadRef.current = load;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` names what `load` fetches; `load` itself is a new closure every render and is read through a ref.
  useEffect(() => {
    // Clear what the previous key loaded.
    setState({ data: undefined, error: undefined, updatedMs: undefined });
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const tick = async (): Promise<void> => {
      try {
        const data = await loadRef.current(controller.signal);
        if (!stopped) setState({ data, error: undefined, updatedMs: Date.now() });
      } catch (error) {
        if (stopped) return;
        const err = error instanceof Error ? error : new Error(String(error));
        setState((previous) => ({ ...previous, error: err }));
      }
      if (!stopped && periodMs > 0) timer = setTimeout(() => void tick(), periodMs);
    };
    void tick();
    return () => {
      stopped = true;
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [key, periodMs]);

  return state;
}
