import { performance } from "node:perf_hooks";
import { type Lease, TASK_WIRES, type TaskResult, type TaskTypeName } from "@dpn/wire";
import type { ArtifactCache, ArtifactHandle } from "./artifactCache.ts";
import { checkOutputs } from "./executors/check.ts";
import type { Executor } from "./executors/kind.ts";
import type { ExecutorPool } from "./executors/pool.ts";
import { EXECUTORS } from "./executors/registry.ts";

export { closeFlTrainer } from "./executors/flTrain.ts";

export interface LeaseRunner {
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
  /** Whose privacy budget a DP release is charged to (agents in one process keep apart). */
  readonly deviceId?: string;
  /** Where the device keeps its privacy account across restarts (default: memory only). */
  readonly stateDir?: string;
}

/**
 * Runs a lease with its kind's executor (executors/registry.ts) and returns the task result: one
 * output per item, in item order, each checked against the kind's output schema, and the wall
 * time of the computation (artifact downloads included only where the executor fetches lazily).
 * Rejects with an AbortError when `signal` aborts (lease expired, agent stopping).
 */
export async function runLease(
  lease: Lease,
  runner: LeaseRunner,
  signal: AbortSignal,
): Promise<TaskResult> {
  const handles: ArtifactHandle[] = [];
  try {
    const executor = EXECUTORS[lease.type] as Executor<TaskTypeName>;
    const startMs = performance.now();
    const outputs = await executor.run(
      lease as never,
      {
        pool: runner.pool,
        cache: runner.cache,
        handles,
        deviceId: runner.deviceId ?? "self",
        ...(runner.stateDir === undefined ? {} : { stateDir: runner.stateDir }),
      },
      signal,
    );
    signal.throwIfAborted();
    return {
      taskId: lease.taskId,
      outputs: checkOutputs(TASK_WIRES[lease.type].output, outputs),
      elapsedMs: performance.now() - startMs,
    };
  } finally {
    for (const handle of handles) handle.release();
  }
}
