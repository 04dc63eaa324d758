import { performance } from "node:perf_hooks";
import type { CircuitSignals } from "snarkjs";
import { iterateSha256 } from "./hash.ts";
import { proveGroth16 } from "./zkGroth16.ts";

/**
 * The piscina worker entry: one call computes one item. It imports only what computing needs
 * (node:crypto, snarkjs); validation and messaging stay in the main thread. Loaded through tsx's
 * ESM hooks, see pool.ts.
 */
export type WorkerTask =
  | { readonly type: "hash"; readonly seed: string; readonly iterations: number }
  | {
      readonly type: "zk-groth16";
      readonly input: CircuitSignals;
      readonly wasmPath: string;
      readonly zkeyPath: string;
    };

export interface WorkerResult {
  /** `{ digest }` for hash, `{ proof, publicSignals }` for zk-groth16. */
  readonly output: unknown;
  /** Wall time of the computation alone, measured in the worker (no queueing, no start-up). */
  readonly elapsedMs: number;
}

export default async function runItem(task: WorkerTask): Promise<WorkerResult> {
  const startMs = performance.now();
  switch (task.type) {
    case "hash": {
      const digest = iterateSha256(task.seed, task.iterations);
      return { output: { digest }, elapsedMs: performance.now() - startMs };
    }
    case "zk-groth16": {
      const output = await proveGroth16(task.input, task.wasmPath, task.zkeyPath);
      return { output, elapsedMs: performance.now() - startMs };
    }
  }
}
