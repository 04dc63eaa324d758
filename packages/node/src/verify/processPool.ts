import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * A pool of child processes serving one module's default handler over IPC. Used instead of
 * worker threads for snarkjs: its ffjavascript dependency (through the `web-worker` package)
 * takes over any worker thread it is loaded in, so snarkjs only runs in a main thread. A child
 * process is one, costs ~60 MB and starts in ~0.5 s, and isolates a crash from the node.
 *
 * Requests wait in the parent, in arrival order, and a child is given one only when it is idle:
 * a request's time budget then counts its own running time, never the queue ahead of it. A
 * request still running when its budget ends cannot be interrupted inside the child (its work is
 * synchronous CPU), so the child is killed and replaced, and the request fails with
 * `ProcessPoolTimeout`; the other children and the queue carry on.
 */
type Reply<R> =
  | { readonly id: number; readonly result: R }
  | { readonly id: number; readonly error: string };

interface Job<Q, R> {
  readonly id: number;
  readonly request: Q;
  readonly budgetMs: number;
  readonly resolve: (value: R) => void;
  readonly reject: (error: Error) => void;
}

interface Slot<Q, R> {
  process: ChildProcess;
  /** The child has loaded and said so: booting (~0.5 s through tsx) is not a request's time. */
  ready: boolean;
  /** The request this child runs, and the timer that ends it, if any. */
  busy: { readonly job: Job<Q, R>; readonly timer: NodeJS.Timeout } | undefined;
}

/** A request ran past its budget; its child was killed and replaced. */
export class ProcessPoolTimeout extends Error {
  constructor(readonly budgetMs: number) {
    super(`the request ran longer than its ${budgetMs} ms budget`);
    this.name = "ProcessPoolTimeout";
  }
}

/** What a child sends once it listens for requests. */
const READY = "ready";

/** TypeScript children load through tsx, as the parent does (ADR 0001). */
const TSX_LOADER = import.meta.resolve("tsx");

export class ProcessPool<Q, R> {
  private readonly slots: Array<Slot<Q, R>> = [];
  private readonly queue: Array<Job<Q, R>> = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly moduleUrl: URL,
    size: number,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const slot: Slot<Q, R> = {
        process: undefined as unknown as ChildProcess,
        ready: false,
        busy: undefined,
      };
      this.spawn(slot);
      this.slots.push(slot);
    }
  }

  /** Starts a child in `slot`; a child that exits is replaced in the same slot. */
  private spawn(slot: Slot<Q, R>): void {
    const child = fork(fileURLToPath(this.moduleUrl), [], {
      execArgv: ["--import", TSX_LOADER],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    slot.process = child;
    slot.ready = false;
    child.on("message", (message: Reply<R> | typeof READY) => {
      if (slot.process !== child) return; // from a child already replaced
      if (message === READY) {
        slot.ready = true;
        this.dispatch();
        return;
      }
      // A reply for a request that timed out is late.
      if (slot.busy?.job.id !== message.id) return;
      const { job, timer } = slot.busy;
      clearTimeout(timer);
      slot.busy = undefined;
      if ("error" in message) job.reject(new Error(message.error));
      else job.resolve(message.result);
      this.dispatch();
    });
    child.on("exit", () => {
      if (slot.process !== child) return;
      const running = slot.busy;
      slot.busy = undefined;
      if (running !== undefined) {
        clearTimeout(running.timer);
        // A crashed request fails; its caller decides whether to retry.
        running.job.reject(new Error("the worker process exited"));
      }
      if (this.closed) return;
      this.spawn(slot);
      this.dispatch();
    });
  }

  /** Gives queued requests to idle children, oldest first. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.busy !== undefined) continue;
      const job = this.queue.shift() as Job<Q, R>;
      const child = slot.process;
      const timer = setTimeout(() => {
        if (slot.busy?.job !== job) return;
        slot.busy = undefined;
        job.reject(new ProcessPoolTimeout(job.budgetMs));
        // The slot is replaced now, not when the old child is gone, so the queue does not wait
        // for the kill to be delivered; the old child's exit and late replies are ignored above.
        child.kill("SIGKILL");
        if (!this.closed) this.spawn(slot);
        this.dispatch();
      }, job.budgetMs);
      slot.busy = { job, timer };
      child.send({ id: job.id, request: job.request });
    }
  }

  /** Runs `request` in the next idle child; fails with ProcessPoolTimeout after `budgetMs`. */
  run(request: Q, budgetMs: number): Promise<R> {
    if (this.closed) return Promise.reject(new Error("the pool is closed"));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, budgetMs, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("the pool is closed"));
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const child = slot.process;
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
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
  process.send?.(READY);
}
