import { ProcessPool } from "./processPool.ts";
import type { WorkRequest } from "./workProcess.ts";

/**
 * Verification work off the event loop: each request names a module (a kind's `work` function)
 * and runs in one of `processes` child processes, one request at a time per process.
 */
export class VerifyPool {
  private readonly pool: ProcessPool<WorkRequest, unknown>;

  constructor(processes: number) {
    this.pool = new ProcessPool(new URL("./workProcess.ts", import.meta.url), processes);
  }

  /** Runs `module`'s `work(request)` in a child process. */
  run<R>(module: URL, request: unknown): Promise<R> {
    return this.pool.run({ module: module.href, request }) as Promise<R>;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
