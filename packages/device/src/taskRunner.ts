import { performance } from "node:perf_hooks";
import { DpnError } from "@dpn/protocol";
import { type Lease, TASK_WIRES, type TaskResult, type TaskTypeName } from "@dpn/wire";
import type { ArtifactCache, ArtifactHandle } from "./artifactCache.ts";
import type { ArtifactUpload } from "./artifactUpload.ts";
import { DEVICE_ARTIFACT_UPLOAD_FAILED } from "./errors.ts";
import { checkOutputs } from "./executors/check.ts";
import type { Executor } from "./executors/kind.ts";
import type { ExecutorPool } from "./executors/pool.ts";
import { EXECUTORS } from "./executors/registry.ts";

export { closeFlTrainer } from "./executors/flTrain.ts";

export interface LeaseRunner {
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
  /** Where executors store output artifacts (the agent's: the node it is connected to). */
  readonly upload?: ArtifactUpload;
  /** Whose privacy budget a DP release is charged to (agents in one process keep apart). */
  readonly deviceId?: string;
  /** Where the device keeps its privacy account across restarts (default: memory only). */
  readonly stateDir?: string;
}

const noUpload: ArtifactUpload = async () => {
  throw new DpnError(DEVICE_ARTIFACT_UPLOAD_FAILED, "This runner has no node to upload to.", {
    hint: "Pass LeaseRunner.upload (the agent passes httpArtifactUpload of its node).",
  });
};

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
        upload: runner.upload ?? noUpload,
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
