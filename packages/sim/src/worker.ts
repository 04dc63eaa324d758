import { parentPort, workerData } from "node:worker_threads";
import {
  HISTOGRAM_BINS,
  METRIC_COUNT,
  type PathConfig,
  pathSteps,
  runPath,
  SERIES_COUNT,
  seriesSampling,
} from "./path.ts";
import type { Scenario } from "./scenarios.ts";

/**
 * Monte Carlo worker: runs the iterations [start, end) it is sent and posts their metrics back.
 * Iteration i runs path ⌊i / S⌋ under scenario i mod S, so what it computes depends on the master
 * seed and i only, never on which thread runs it.
 */
export interface WorkerInit {
  readonly config: PathConfig;
  readonly scenarios: readonly Scenario[];
}

export interface ChunkRequest {
  readonly start: number;
  readonly end: number;
}

export interface ChunkResult {
  readonly start: number;
  readonly end: number;
  readonly metrics: Float64Array;
  /** Per scenario, HISTOGRAM_BINS counts of |deviation| per step. */
  readonly histogram: Float64Array;
  /**
   * Per scenario, SERIES_COUNT × points sums over this chunk's paths, added in iteration order
   * (the caller adds chunks in chunk order, so float sums do not depend on the thread count).
   */
  readonly series: Float64Array;
}

/** Numbers per scenario in a chunk's `series`. */
export function seriesLength(config: PathConfig): number {
  return SERIES_COUNT * seriesSampling(pathSteps(config.days, config.stepHours)).points;
}

export function runChunk(init: WorkerInit, request: ChunkRequest): ChunkResult {
  const count = request.end - request.start;
  const metrics = new Float64Array(count * METRIC_COUNT);
  const scenarioCount = init.scenarios.length;
  const histogram = new Float64Array(scenarioCount * HISTOGRAM_BINS);
  const perScenario = seriesLength(init.config);
  const series = new Float64Array(scenarioCount * perScenario);
  for (let i = request.start; i < request.end; i++) {
    const s = i % scenarioCount;
    const scenario = init.scenarios[s];
    if (scenario === undefined) continue;
    runPath(
      init.config,
      scenario,
      Math.floor(i / scenarioCount),
      metrics,
      (i - request.start) * METRIC_COUNT,
      histogram.subarray(s * HISTOGRAM_BINS, (s + 1) * HISTOGRAM_BINS),
      series.subarray(s * perScenario, (s + 1) * perScenario),
    );
  }
  return { start: request.start, end: request.end, metrics, histogram, series };
}

interface WorkerData {
  readonly dpnSimWorker: true;
  readonly init: WorkerInit;
}

function isWorkerData(value: unknown): value is WorkerData {
  return typeof value === "object" && value !== null && "dpnSimWorker" in value;
}

// Only when started by runMonteCarlo (a test runner may itself run inside a worker thread).
if (parentPort !== null && isWorkerData(workerData)) {
  const port = parentPort;
  const init = workerData.init;
  port.on("message", (request: ChunkRequest) => {
    try {
      const result = runChunk(init, request);
      port.postMessage(result, [
        result.metrics.buffer as ArrayBuffer,
        result.histogram.buffer as ArrayBuffer,
        result.series.buffer as ArrayBuffer,
      ]);
    } catch (error) {
      port.postMessage({
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
}
