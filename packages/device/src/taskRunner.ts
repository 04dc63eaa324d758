import { performance } from "node:perf_hooks";
import { DpnError, isDpnError } from "@dpn/protocol";
import {
  CircuitInput,
  HashItem,
  HashOutput,
  type Lease,
  ProofOutput,
  parseMessage,
  type TaskResult,
} from "@dpn/wire";
import type { ArtifactCache, ArtifactHandle } from "./artifactCache.ts";
import { DEVICE_OUTPUT_INVALID, DEVICE_TASK_INVALID } from "./errors.ts";
import type { ExecutorPool } from "./executors/pool.ts";
import type { WorkerTask } from "./executors/worker.ts";

export interface LeaseRunner {
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
}

function parseItem<T>(
  schema: Parameters<typeof parseMessage<T>>[0],
  item: unknown,
  what: string,
): T {
  try {
    return parseMessage(schema, item, what);
  } catch (error) {
    throw new DpnError(DEVICE_TASK_INVALID, `The node leased a malformed ${what}.`, {
      hint: "This is a node or requester bug; the lease is dropped and will expire.",
      cause: error,
      details: isDpnError(error) ? error.details : {},
    });
  }
}

/** Checks our own output against the message schema before it is signed and sent. */
function checkOutput<T>(schema: Parameters<typeof parseMessage<T>>[0], output: unknown): T {
  try {
    return parseMessage(schema, output, "executor output");
  } catch (error) {
    throw new DpnError(
      DEVICE_OUTPUT_INVALID,
      "An executor produced output the node would reject.",
      {
        hint: "This is a device agent bug; please report it with the log.",
        cause: error,
      },
    );
  }
}

/** Builds the worker tasks of a lease, fetching (and pinning) the artifacts they need. */
async function prepare(
  lease: Lease,
  cache: ArtifactCache,
  handles: ArtifactHandle[],
): Promise<WorkerTask[]> {
  switch (lease.type) {
    case "hash":
      return lease.items.map((item, index) => {
        const { seed, iterations } = parseItem(HashItem, item, `hash item ${index}`);
        return { type: "hash", seed, iterations };
      });
    case "zk-groth16": {
      const inputs = lease.items.map((item, index) =>
        parseItem(CircuitInput, item, `circuit input ${index}`),
      );
      const { wasm, zkey } = lease.artifacts;
      if (wasm === undefined || zkey === undefined) {
        throw new DpnError(DEVICE_TASK_INVALID, "A zk-groth16 lease lacks its wasm or zkey.", {
          hint: "This is a node bug; the lease is dropped and will expire.",
          details: { artifacts: Object.keys(lease.artifacts) },
        });
      }
      // The verification key is not fetched: proving does not need it, the node verifies.
      const [wasmFile, zkeyFile] = await Promise.all([cache.acquire(wasm), cache.acquire(zkey)]);
      handles.push(wasmFile, zkeyFile);
      return inputs.map((input) => ({
        type: "zk-groth16",
        input,
        wasmPath: wasmFile.path,
        zkeyPath: zkeyFile.path,
      }));
    }
  }
}

/**
 * Runs every item of a lease in order on the worker pool (one thread at a time per lease, so
 * `slots` leases use at most `slots` cores) and returns the task result: one output per item,
 * in item order, and the wall time of the computation (artifact downloads excluded).
 * Rejects with an AbortError when `signal` aborts (lease expired, agent stopping).
 */
export async function runLease(
  lease: Lease,
  runner: LeaseRunner,
  signal: AbortSignal,
): Promise<TaskResult> {
  const handles: ArtifactHandle[] = [];
  try {
    const tasks = await prepare(lease, runner.cache, handles);
    signal.throwIfAborted();
    const startMs = performance.now();
    const outputs: unknown[] = [];
    for (const task of tasks) {
      const { output } = await runner.pool.run(task, signal);
      outputs.push(checkOutput<unknown>(task.type === "hash" ? HashOutput : ProofOutput, output));
    }
    return { taskId: lease.taskId, outputs, elapsedMs: performance.now() - startMs };
  } finally {
    for (const handle of handles) handle.release();
  }
}
