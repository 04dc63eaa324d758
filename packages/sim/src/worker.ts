import { parentPort, workerData } from "node:worker_threads";
import { HISTOGRAM_BINS, METRIC_COUNT, type PathConfig, runPath } from "./path.ts";
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
}

export function runChunk(init: WorkerInit, request: ChunkRequest): ChunkResult {
  const count = request.end - request.start;
  const metrics = new Float64Array(count * METRIC_COUNT);
  const scenarioCount = init.scenarios.length;
  const histogram = new Float64Array(scenarioCount * HISTOGRAM_BINS);
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
    );
  }
  return { start: request.start, end: request.end, metrics, histogram };
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
      ]);
    } catch (error) {
      port.postMessage({
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
}
