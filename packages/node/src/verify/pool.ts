import { DpnError } from "@dpn/protocol";
import { VERIFY_BUDGET_MS } from "../limits.ts";
import { ProcessPool, ProcessPoolTimeout } from "./processPool.ts";
import type { WorkRequest } from "./workProcess.ts";

export interface VerifyPoolOptions {
  readonly processes: number;
  /** Running time one request may take (default VERIFY_BUDGET_MS; tests pass less). */
  readonly budgetMs?: number;
}

/**
 * Verification work off the event loop: each request names a module (a kind's `work` function)
 * and runs in one of `processes` child processes, one request at a time per process, within the
 * pool's time budget (VERIFY_TIMEOUT beyond it; the process is replaced).
 */
export class VerifyPool {
  private readonly pool: ProcessPool<WorkRequest, unknown>;
  readonly budgetMs: number;

  constructor(options: VerifyPoolOptions) {
    this.budgetMs = options.budgetMs ?? VERIFY_BUDGET_MS;
    this.pool = new ProcessPool(new URL("./workProcess.ts", import.meta.url), options.processes);
  }

  /** Runs `module`'s `work(request)` in a child process. */
  async run<R>(module: URL, request: unknown): Promise<R> {
    try {
      return (await this.pool.run({ module: module.href, request }, this.budgetMs)) as R;
    } catch (error) {
      if (error instanceof ProcessPoolTimeout) {
        throw new DpnError(
          "VERIFY_TIMEOUT",
          `The verification ran longer than its ${error.budgetMs} ms budget and was stopped.`,
          { hint: "The task is offered again; nothing was paid.", cause: error },
        );
      }
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
