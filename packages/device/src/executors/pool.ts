import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { DpnError } from "@dpn/protocol";
import { Piscina } from "piscina";
import { DEVICE_EXECUTION_FAILED } from "../errors.ts";
import type { WorkerResult, WorkerTask } from "./worker.ts";

/**
 * The worker threads that run items, never the event loop (docs/adr/0001; README).
 *
 * Loading TypeScript in a worker thread: the repo runs sources through tsx (ADR 0001), but a
 * worker thread does not inherit the parent's module hooks. Under `tsx` the parent's execArgv
 * carries tsx's loader, under Vitest it does not (Vitest transforms in-process), so inheriting
 * execArgv works in one and fails in the other. Instead every worker starts with exactly one
 * `--import` of a data: URL (THREAD_BOOTSTRAP) that registers, from absolute URLs resolved here
 * (so it works from any working directory):
 *
 * 1. tsx's ESM-only hooks. ESM-only matters: piscina first tries `require(filename)`; with tsx's
 *    CJS hook that would succeed and load the worker and snarkjs as transpiled CommonJS. Without
 *    it, Node's require refuses the .ts file and piscina falls back to `import()`, so the worker
 *    graph is real ESM, as in the main thread.
 * 2. A resolve hook that replaces the `web-worker` package with a stub. ffjavascript (snarkjs's
 *    field library, two copies in the tree) imports it at load time, and in any thread that is
 *    not the main one web-worker assumes it is one of its own workers: it destructures
 *    `workerData.mod` (a TypeError under piscina, which crashes the thread), takes over
 *    `parentPort` and swaps the global object's prototype. Our threads only ever use
 *    single-threaded curves (zkGroth16.ts), which never construct a Worker; the stub throws a
 *    clear error if something tries.
 */
const WEB_WORKER_STUB = `export default class Worker { constructor() { throw new Error("DPN executor threads prove single-threaded: ffjavascript tried to start a Worker (see packages/device/src/executors/pool.ts)."); } }`;
const THREAD_HOOKS = `export async function resolve(specifier, context, next) {
  if (specifier === "web-worker") {
    return { url: ${JSON.stringify(`data:text/javascript;base64,${Buffer.from(WEB_WORKER_STUB).toString("base64")}`)}, shortCircuit: true };
  }
  return next(specifier, context);
}`;
const THREAD_BOOTSTRAP = `import { register as registerTsx } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};
import { register } from "node:module";
registerTsx();
register(${JSON.stringify(`data:text/javascript;base64,${Buffer.from(THREAD_HOOKS).toString("base64")}`)});`;
const THREAD_EXEC_ARGV = [
  "--import",
  `data:text/javascript;base64,${Buffer.from(THREAD_BOOTSTRAP).toString("base64")}`,
];
const WORKER_FILENAME = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** Threads are kept this long when idle so a zk worker keeps its curve and compiled wasm. */
const IDLE_THREAD_MS = 60_000;
/** More threads than this would only contend for cores and memory (a witness reserves 2 GiB). */
export const MAX_POOL_THREADS = 256;

export interface ExecutorPool {
  /** Runs one item; rejects with an AbortError when `signal` aborts (the thread is replaced). */
  run(task: WorkerTask, signal?: AbortSignal): Promise<WorkerResult>;
  /** Terminates every thread; pending runs reject. */
  destroy(): Promise<void>;
  readonly threads: number;
}

export function createExecutorPool(options: { readonly threads: number }): ExecutorPool {
  const threads = Math.min(Math.max(1, Math.floor(options.threads)), MAX_POOL_THREADS);
  const pool = new Piscina<WorkerTask, WorkerResult>({
    filename: WORKER_FILENAME,
    execArgv: THREAD_EXEC_ARGV,
    minThreads: 1,
    maxThreads: threads,
    idleTimeout: IDLE_THREAD_MS,
  });
  return {
    threads,
    async run(task, signal) {
      try {
        return await pool.run(task, signal === undefined ? {} : { signal });
      } catch (error) {
        if (signal?.aborted === true) throw error;
        // Errors cross the thread boundary as plain Errors (structured clone drops `code`).
        throw new DpnError(
          DEVICE_EXECUTION_FAILED,
          `The ${task.type} executor failed: ${error instanceof Error ? error.message : String(error)}`,
          { hint: "The item's inputs may be invalid for its circuit or task type.", cause: error },
        );
      }
    },
    destroy: () => pool.destroy(),
  };
}

/** Default number of task slots: every core but one, which stays for the node link and the OS. */
export function defaultSlots(): number {
  return Math.max(1, availableParallelism() - 1);
}
