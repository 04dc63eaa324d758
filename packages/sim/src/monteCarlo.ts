import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DpnError } from "@dpn/protocol";
import type { MarketParams, Mechanisms } from "./market.ts";
import {
  integerIn,
  MAX_ITERATIONS,
  MAX_SCENARIO_DAYS,
  MAX_THREADS,
  marketParams,
  numberIn,
  protocolParams,
  SIM_INVALID_OPTION,
  seedOption,
} from "./options.ts";
import {
  DEFAULT_PATH_CONFIG,
  HISTOGRAM_BIN,
  HISTOGRAM_BINS,
  METRIC_COUNT,
  type PathConfig,
  pathSteps,
  seriesSampling,
} from "./path.ts";
import { SCENARIOS, type Scenario } from "./scenarios.ts";
import { histogramPercentile, percentileSorted, wilson95 } from "./stats.ts";
import { type ChunkResult, runChunk, seriesLength, type WorkerInit } from "./worker.ts";

export interface MonteCarloOptions {
  /** Scenario runs in total, spread evenly over the scenarios (1 … 10,000,000). */
  readonly iterations: number;
  readonly seed: string;
  /** Worker threads; 1 runs in this thread. Default: min(2, available cores). */
  readonly threads?: number;
  /** Length of each path in days (default 30). */
  readonly days?: number;
  /** Step length in hours, a divisor of 24 (default 24: one oracle round and rate epoch a day). */
  readonly stepHours?: number;
  /** Decoupled: |price / anchor − 1| above this … (default 0.10) */
  readonly decouplingThreshold?: number;
  /** … for at least this many consecutive hours (default 48). */
  readonly decouplingMinHours?: number;
  readonly demandUsdPerDay?: number;
  /** Scenario ids to run (default: all of SCENARIOS). */
  readonly scenarios?: readonly string[];
  /** Protocol parameter overrides, checked by resolveParams ("antiDecoupling.gain": 0.5). */
  readonly params?: Readonly<Record<string, number>>;
  readonly market?: Partial<MarketParams>;
}

export interface Progress {
  readonly done: number;
  readonly total: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly label: string;
  readonly mechanisms: Mechanisms;
  readonly reserveStableUsd: number;
  readonly paths: number;
  readonly decoupled: number;
  readonly decouplingProbability: number;
  readonly ci95: readonly [number, number];
  /** Per path, the largest |deviation| seen at a step close. */
  readonly maxAbsDeviation: { readonly p50: number; readonly p90: number; readonly p99: number };
  /** Over every step of every path: |deviation| percentiles (0.5-point bins) and time within 5%. */
  readonly stepAbsDeviation: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly shareWithin5Pct: number;
  };
  readonly mean: {
    readonly mintedDpn: number;
    readonly burnedDpn: number;
    readonly outstandingDpn: number;
    readonly circulationDpn: number;
    readonly reserveDpn: number;
    readonly reserveStable: number;
    readonly fallbackRounds: number;
    readonly reserveTrades: number;
    /**
     * Gini of the path's rewards per device, every device of a class earning its class's mean
     * (the aggregate economy has no individual devices): the inequality between classes only.
     */
    readonly classRewardGini: number;
  };
  /** |deviation| at every step close of every path: counts per bin; the last bin is open. */
  readonly deviationHistogram: { readonly binWidth: number; readonly counts: readonly number[] };
  /** Means over the scenario's paths at sampled step closes (≤ MAX_SERIES_POINTS). */
  readonly series: ScenarioSeries;
}

export interface ScenarioSeries {
  /** Hours from the path's start to each sampled step close. */
  readonly hours: readonly number[];
  /** Outstanding supply (all DPN not burned, pools included). */
  readonly outstandingDpn: readonly number[];
  /** DPN held by users (devices, requesters, traders): C of the rate. */
  readonly circulationDpn: readonly number[];
  /** Minted since the path's start. */
  readonly mintedDpn: readonly number[];
  /** Burned since the path's start. */
  readonly burnedDpn: readonly number[];
  /** Rigs' share of the capacity online. */
  readonly rigShare: readonly number[];
  /** |P / Base_Price − 1| at the close. */
  readonly absDeviation: readonly number[];
}

export interface MonteCarloResult {
  readonly kind: "montecarlo";
  readonly seed: string;
  readonly iterations: number;
  readonly threads: number;
  readonly days: number;
  readonly stepHours: number;
  readonly decoupling: { readonly threshold: number; readonly minHours: number };
  readonly scenarios: readonly ScenarioResult[];
  readonly elapsedMs: number;
}

interface Resolved {
  readonly iterations: number;
  readonly threads: number;
  readonly init: WorkerInit;
}

/** Validates options (SIM_INVALID_OPTION with a hint on any bad value). */
export function resolveMonteCarloOptions(options: MonteCarloOptions): Resolved {
  const iterations = integerIn(
    "iterations",
    options.iterations,
    1,
    MAX_ITERATIONS,
    "Use at least 1 and at most 10,000,000 iterations (100,000 takes about 20 s on 2 cores).",
  );
  const seed = seedOption(options.seed);
  const threads = integerIn(
    "threads",
    options.threads ?? Math.min(2, availableParallelism()),
    1,
    MAX_THREADS,
    "Use between 1 and 64 worker threads; more than the machine's cores only adds overhead.",
  );
  const days = integerIn(
    "days",
    options.days ?? DEFAULT_PATH_CONFIG.days,
    1,
    MAX_SCENARIO_DAYS,
    "Paths last 1 to 365 days.",
  );
  const stepHours = integerIn(
    "stepHours",
    options.stepHours ?? DEFAULT_PATH_CONFIG.stepHours,
    1,
    24,
    "Use a step of 1 to 24 hours that divides 24.",
  );
  if (24 % stepHours !== 0) {
    throw new DpnError(SIM_INVALID_OPTION, `stepHours must divide 24, got ${stepHours}.`, {
      hint: "Use 1, 2, 3, 4, 6, 8, 12 or 24.",
      details: { option: "stepHours", value: String(stepHours) },
    });
  }
  const decouplingThreshold = numberIn(
    "decouplingThreshold",
    options.decouplingThreshold ?? DEFAULT_PATH_CONFIG.decouplingThreshold,
    0.001,
    10,
    "A relative deviation, e.g. 0.1 for 10%.",
  );
  const decouplingMinHours = numberIn(
    "decouplingMinHours",
    options.decouplingMinHours ?? DEFAULT_PATH_CONFIG.decouplingMinHours,
    0,
    days * 24,
    "At most the path's length in hours.",
  );
  const demandUsdPerDay = numberIn(
    "demandUsdPerDay",
    options.demandUsdPerDay ?? DEFAULT_PATH_CONFIG.demandUsdPerDay,
    1,
    1e9,
    "Compute demand in USD a day, e.g. 50000.",
  );
  const wanted = options.scenarios ?? SCENARIOS.map((s) => s.id);
  if (wanted.length === 0) {
    throw new DpnError(SIM_INVALID_OPTION, "No scenario was selected.", {
      hint: `Choose among: ${SCENARIOS.map((s) => s.id).join(", ")}.`,
    });
  }
  const scenarios: Scenario[] = wanted.map((id) => {
    const found = SCENARIOS.find((s) => s.id === id);
    if (found === undefined) {
      throw new DpnError(SIM_INVALID_OPTION, `Unknown scenario "${id}".`, {
        hint: `Choose among: ${SCENARIOS.map((s) => s.id).join(", ")}.`,
        details: { option: "scenarios", value: id },
      });
    }
    return found;
  });
  const config: PathConfig = {
    ...DEFAULT_PATH_CONFIG,
    seed,
    days,
    stepHours,
    decouplingThreshold,
    decouplingMinHours,
    demandUsdPerDay,
    params: protocolParams(options.params),
    market: marketParams(options.market),
  };
  return { iterations, threads, init: { config, scenarios } };
}

/**
 * Workers run TypeScript through tsx. On Node 20.20, `execArgv: ["--import", tsx]` registers the
 * loader too late for the worker's entry module (ERR_UNKNOWN_FILE_EXTENSION on worker.ts), so a
 * small bootstrap registers tsx's ESM hooks first and then imports the worker module. It works
 * under tsx, plain node and vitest alike.
 */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)}); })`;

/** Iterations per message to a worker: large enough to amortise messaging, small for balance. */
const CHUNK = 500;

/**
 * Runs the Monte Carlo (see the package README for the model and the decoupling definition).
 * Reproducible: the same options give bit-for-bit the same `scenarios`, whatever `threads`.
 */
export async function runMonteCarlo(
  options: MonteCarloOptions,
  onProgress?: (progress: Progress) => void,
): Promise<MonteCarloResult> {
  const resolved = resolveMonteCarloOptions(options);
  const { iterations, threads, init } = resolved;
  const started = performance.now();
  const metrics = new Float64Array(iterations * METRIC_COUNT);
  const histogram = new Float64Array(init.scenarios.length * HISTOGRAM_BINS);
  const series = new Float64Array(init.scenarios.length * seriesLength(init.config));
  // Float sums depend on their order: chunks' series are added in chunk order, whichever thread
  // finishes first. Few wait (chunks are handed out in order and cost about the same), and each
  // is small (scenarios × SERIES_COUNT × ≤ 200 numbers).
  const waiting = new Map<number, Float64Array>();
  let nextStart = 0;
  let done = 0;
  const accept = (result: ChunkResult): void => {
    metrics.set(result.metrics, result.start * METRIC_COUNT);
    // Integer counts: the sum does not depend on the order chunks arrive in.
    for (let k = 0; k < histogram.length; k++) {
      histogram[k] = (histogram[k] as number) + (result.histogram[k] as number);
    }
    waiting.set(result.start, result.series);
    for (let next = waiting.get(nextStart); next !== undefined; next = waiting.get(nextStart)) {
      for (let k = 0; k < series.length; k++)
        series[k] = (series[k] as number) + (next[k] as number);
      waiting.delete(nextStart);
      nextStart += CHUNK;
    }
    done += result.end - result.start;
    onProgress?.({ done, total: iterations });
  };
  const chunks: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < iterations; start += CHUNK) {
    chunks.push({ start, end: Math.min(iterations, start + CHUNK) });
  }

  if (threads === 1) {
    for (const chunk of chunks) {
      accept(runChunk(init, chunk));
      // Let a progress bar repaint between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } else {
    await runInWorkers(init, chunks, Math.min(threads, chunks.length), accept);
  }
  return summarise(resolved, metrics, histogram, series, performance.now() - started);
}

async function runInWorkers(
  init: WorkerInit,
  chunks: ReadonlyArray<{ start: number; end: number }>,
  threads: number,
  accept: (result: ChunkResult) => void,
): Promise<void> {
  let next = 0;
  const workers: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: threads }, () => {
        const worker = new Worker(WORKER_BOOTSTRAP, {
          eval: true,
          workerData: { dpnSimWorker: true, init },
        });
        workers.push(worker);
        return new Promise<void>((resolve, reject) => {
          const send = (): void => {
            const chunk = chunks[next];
            next += 1;
            if (chunk === undefined) resolve();
            else worker.postMessage(chunk);
          };
          worker.on("message", (message: ChunkResult | { error: string }) => {
            if ("error" in message) {
              reject(new Error(`Monte Carlo worker failed: ${message.error}`));
              return;
            }
            accept(message);
            send();
          });
          worker.on("error", reject);
          worker.on("exit", (code) => {
            if (code !== 0) reject(new Error(`Monte Carlo worker exited with code ${code}.`));
          });
          send();
        });
      }),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function summarise(
  resolved: Resolved,
  metrics: Float64Array,
  histogram: Float64Array,
  series: Float64Array,
  elapsedMs: number,
): MonteCarloResult {
  const { iterations, init } = resolved;
  const S = init.scenarios.length;
  const config = init.config;
  const steps = pathSteps(config.days, config.stepHours);
  const { stride, points } = seriesSampling(steps);
  const hours = Array.from(
    { length: points },
    (_, k) => Math.min(steps, (k + 1) * stride) * config.stepHours,
  );
  const perScenario = seriesLength(config);
  const scenarios = init.scenarios.map((scenario, s): ScenarioResult => {
    let paths = 0;
    for (let i = s; i < iterations; i += S) paths += 1;
    const maxAbs = new Float64Array(paths);
    const sums = new Float64Array(METRIC_COUNT);
    let decoupled = 0;
    let j = 0;
    for (let i = s; i < iterations; i += S) {
      const base = i * METRIC_COUNT;
      decoupled += metrics[base] as number;
      maxAbs[j] = metrics[base + 1] as number;
      j += 1;
      for (let k = 0; k < METRIC_COUNT; k++)
        sums[k] = (sums[k] as number) + (metrics[base + k] as number);
    }
    maxAbs.sort();
    const mean = (k: number): number => (paths > 0 ? (sums[k] as number) / paths : 0);
    const bins = histogram.subarray(s * HISTOGRAM_BINS, (s + 1) * HISTOGRAM_BINS);
    const seriesSums = series.subarray(s * perScenario, (s + 1) * perScenario);
    const row = (r: number): number[] =>
      Array.from(seriesSums.subarray(r * points, (r + 1) * points), (x) =>
        paths > 0 ? x / paths : 0,
      );
    return {
      id: scenario.id,
      label: scenario.label,
      mechanisms: scenario.mechanisms,
      reserveStableUsd: scenario.reserveStableUsd,
      paths,
      decoupled,
      decouplingProbability: paths > 0 ? decoupled / paths : 0,
      ci95: wilson95(decoupled, paths),
      maxAbsDeviation: {
        p50: percentileSorted(maxAbs, 50),
        p90: percentileSorted(maxAbs, 90),
        p99: percentileSorted(maxAbs, 99),
      },
      stepAbsDeviation: {
        p50: histogramPercentile(bins, HISTOGRAM_BIN, 50),
        p90: histogramPercentile(bins, HISTOGRAM_BIN, 90),
        p99: histogramPercentile(bins, HISTOGRAM_BIN, 99),
        shareWithin5Pct: mean(3),
      },
      mean: {
        mintedDpn: mean(6),
        burnedDpn: mean(7),
        outstandingDpn: mean(8),
        circulationDpn: mean(13),
        reserveDpn: mean(9),
        reserveStable: mean(10),
        fallbackRounds: mean(11),
        reserveTrades: mean(12),
        classRewardGini: mean(15),
      },
      deviationHistogram: { binWidth: HISTOGRAM_BIN, counts: Array.from(bins) },
      series: {
        hours,
        outstandingDpn: row(0),
        circulationDpn: row(1),
        mintedDpn: row(2),
        burnedDpn: row(3),
        rigShare: row(4),
        absDeviation: row(5),
      },
    };
  });
  return {
    kind: "montecarlo",
    seed: config.seed,
    iterations,
    threads: resolved.threads,
    days: config.days,
    stepHours: config.stepHours,
    decoupling: { threshold: config.decouplingThreshold, minHours: config.decouplingMinHours },
    scenarios,
    elapsedMs,
  };
}
