import { fileURLToPath } from "node:url";
import { DpnError } from "@dpn/protocol";
import { Piscina } from "piscina";
import { FL_TRAINING_FAILED } from "../errors.ts";
import { type LocalTrainJob, type LocalTrainResult, trainLocal } from "../train.ts";
import type { WorkerOutcome } from "./worker.ts";

/**
 * Where local training runs. `createTrainerPool` runs each job in a piscina worker thread (as
 * @dpn/device runs its executors), `createInlineTrainer` in the calling thread (tests, one-off
 * evaluation). Both give bit-identical results for the same job: each thread has its own
 * single-threaded tfjs wasm backend and the batch order is seeded.
 */
export interface Trainer {
  train(job: LocalTrainJob, signal?: AbortSignal): Promise<LocalTrainResult>;
  destroy(): Promise<void>;
  readonly threads: number;
}

/**
 * Worker threads do not inherit the parent's module hooks, and Vitest (in-process transform) and
 * tsx (execArgv loader) differ, so every worker registers tsx's ESM hooks itself from a data: URL
 * resolved here, independent of the working directory (see packages/device/src/executors/pool.ts).
 */
const THREAD_BOOTSTRAP = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};
register();`;
const THREAD_EXEC_ARGV = [
  "--import",
  `data:text/javascript;base64,${Buffer.from(THREAD_BOOTSTRAP).toString("base64")}`,
];
const WORKER_FILENAME = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** Idle threads are kept this long so their wasm backend and cached models survive between rounds. */
const IDLE_THREAD_MS = 30_000;
/** Each thread holds a wasm heap and a tfjs engine (~30 MiB); more than this only contends. */
export const MAX_TRAINER_THREADS = 64;

export function createTrainerPool(options: { readonly threads: number }): Trainer {
  const threads = Math.min(Math.max(1, Math.floor(options.threads)), MAX_TRAINER_THREADS);
  const pool = new Piscina<LocalTrainJob, WorkerOutcome>({
    filename: WORKER_FILENAME,
    execArgv: THREAD_EXEC_ARGV,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: IDLE_THREAD_MS,
  });
  return {
    threads,
    async train(job, signal) {
      let outcome: WorkerOutcome;
      try {
        outcome = await pool.run(job, signal === undefined ? {} : { signal });
      } catch (error) {
        if (signal?.aborted === true) throw error;
        throw new DpnError(
          FL_TRAINING_FAILED,
          `Local training failed in a worker thread: ${error instanceof Error ? error.message : String(error)}`,
          {
            hint: "Check the job's spec, data and config; this is a bug if they are valid.",
            cause: error,
          },
        );
      }
      if (outcome.ok) return outcome.result;
      // The worker threw a DpnError of this package; its code crossed the thread as a string.
      throw DpnError.received(
        outcome.code,
        outcome.message,
        outcome.hint === undefined
          ? { details: outcome.details }
          : { hint: outcome.hint, details: outcome.details },
      );
    },
    destroy: () => pool.destroy(),
  };
}

export function createInlineTrainer(): Trainer {
  return {
    threads: 1,
    train: (job) => trainLocal(job),
    destroy: async () => {},
  };
}
