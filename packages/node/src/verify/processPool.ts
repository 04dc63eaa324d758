import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A pool of child processes serving one module's default handler over IPC. Used instead of
 * worker threads for snarkjs: its ffjavascript dependency (through the `web-worker` package)
 * takes over any worker thread it is loaded in, so snarkjs only runs in a main thread. A child
 * process is one, costs ~60 MB and starts in ~0.5 s, and isolates a crash from the node.
 */
interface Pending<R> {
  readonly resolve: (value: R) => void;
  readonly reject: (error: Error) => void;
}

interface Child<R> {
  process: ChildProcess;
  readonly pending: Map<number, Pending<R>>;
}

type Reply<R> =
  | { readonly id: number; readonly result: R }
  | { readonly id: number; readonly error: string };

/** TypeScript children load through tsx, as the parent does (ADR 0001). */
const TSX_LOADER = import.meta.resolve("tsx");

export class ProcessPool<Q, R> {
  private readonly children: Array<Child<R>> = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    size: number,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.children.push(this.spawn());
  }

  private spawn(): Child<R> {
    const child: Child<R> = {
      process: fork(fileURLToPath(this.moduleUrl), [], {
        execArgv: ["--import", TSX_LOADER],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
      pending: new Map(),
    };
    child.process.on("message", (message: Reply<R>) => {
      const waiter = child.pending.get(message.id);
      if (waiter === undefined) return;
      child.pending.delete(message.id);
      if ("error" in message) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    child.process.on("exit", () => {
      for (const waiter of child.pending.values())
        waiter.reject(new Error("the worker process exited"));
      child.pending.clear();
      // A crashed worker is replaced; its requests failed above and are retried by their callers.
      if (!this.closed) child.process = this.spawn().process;
    });
    return child;
  }

  run(request: Q): Promise<R> {
    if (this.closed) return Promise.reject(new Error("the pool is closed"));
    // Least in-flight work first: requests are CPU-bound and a child runs one at a time.
    const child = this.children.reduce((best, c) =>
      c.pending.size < best.pending.size ? c : best,
    );
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      child.pending.set(id, { resolve, reject });
      child.process.send({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.process.exitCode !== null || child.process.signalCode !== null)
              return resolve();
            child.process.once("exit", () => resolve());
            child.process.kill("SIGTERM");
          }),
      ),
    );
  }
}

/** Serves `handler` in a child process started by ProcessPool. */
export function serve<Q, R>(handler: (request: Q) => Promise<R>): void {
  process.on("message", (message: { id: number; request: Q }) => {
    handler(message.request).then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) =>
        process.send?.({
          id: message.id,
          error: error instanceof Error ? error.message : String(error),
        }),
    );
  });
  // The parent going away ends the child too.
  process.on("disconnect", () => process.exit(0));
}
