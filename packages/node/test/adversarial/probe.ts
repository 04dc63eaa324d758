/**
 * What the adversarial suite measures while it attacks a node: how long a cheap HTTP read
 * (GET /v1/node) takes, against the same read on the idle node. A bound on that ratio, not on an
 * absolute time, says "other clients are not stalled" on any machine: the attacks the suite
 * replays stalled the node for seconds (a 19 s freeze under a frame flood), four orders of
 * magnitude above an idle read; a node under a bounded attack it refuses cheaply stays within a
 * small factor of idle.
 */

/**
 * The largest median slowdown of the probe during an attack. Generous (a loaded 2-core CI
 * machine, the attacker's own CPU on the same machine) yet far below any stall the attacks
 * caused before the defences: it separates "answers in a few ms more" from "frozen".
 */
export const STALL_RATIO_BOUND = 50;

/**
 * Idle latencies below this count as this: a loopback read can take 0.3 ms, and a ratio to a
 * number that small measures the timer, not the node.
 */
const IDLE_FLOOR_MS = 2;

async function probeOnce(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/node`);
  await response.arrayBuffer();
  return performance.now() - started;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The median of `samples` probes on the node as it is now (call before the attack). */
export async function idleLatencyMs(url: string, samples = 20): Promise<number> {
  await probeOnce(url); // the first read warms the route
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await probeOnce(url));
  return Math.max(IDLE_FLOOR_MS, median(times));
}

export interface StallReport {
  readonly idleMs: number;
  readonly duringMs: readonly number[];
  /** Median probe latency during the attack over idle latency. */
  readonly ratio: number;
}

/**
 * Probes the node back to back while `attack` runs (at least `minSamples` probes, the last ones
 * after the attack settled, so a node that queued the attack's work is caught), and reports the
 * median slowdown. The attack's own outcome is returned for the test to check.
 */
export async function probeDuring<T>(
  url: string,
  attack: () => Promise<T>,
  options: { readonly idleMs: number; readonly minSamples?: number },
): Promise<{ readonly result: T; readonly stall: StallReport }> {
  const minSamples = options.minSamples ?? 10;
  let done = false;
  const running = attack().finally(() => {
    done = true;
  });
  const times: number[] = [];
  while (!done || times.length < minSamples) times.push(await probeOnce(url));
  const result = await running;
  return {
    result,
    stall: { idleMs: options.idleMs, duringMs: times, ratio: median(times) / options.idleMs },
  };
}
