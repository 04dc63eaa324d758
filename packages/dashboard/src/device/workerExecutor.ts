import type { CircuitInput, Executor, ProofOutput } from "./executor.ts";

/**
 * The page's side of the device's Web Worker (deviceWorker.ts): every computation runs there,
 * off the page's event loop, so the page stays responsive and a proof's one core is the worker's.
 * One request at a time is the agent's pattern, but requests carry ids and may overlap.
 */
export type WorkerRequest =
  | { readonly id: number; readonly op: "init"; readonly nodeUrl: string }
  | {
      readonly id: number;
      readonly op: "hash";
      readonly seed: string;
      readonly iterations: number;
      readonly cpuShare: number;
    }
  | {
      readonly id: number;
      readonly op: "memory";
      readonly seed: string;
      readonly memoryMiB: number;
    }
  | {
      readonly id: number;
      readonly op: "prepare";
      readonly artifacts: readonly string[];
      readonly authorizations: Readonly<Record<string, string>>;
    }
  | {
      readonly id: number;
      readonly op: "prove";
      readonly input: CircuitInput;
      readonly wasm: string;
      readonly zkey: string;
    };

export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The part of a DOM `Worker` used here (named without the DOM lib, for Node's type-check). */
export interface WorkerLike {
  postMessage(message: WorkerRequest): void;
  terminate(): void;
  addEventListener(type: "message", listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(type: "error", listener: (event: { readonly message?: string }) => void): void;
}

type Pending = { resolve(value: unknown): void; reject(error: Error): void };

export class WorkerExecutor implements Executor {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  /** `worker` is a fresh `new Worker(new URL("./deviceWorker.ts", import.meta.url), { type: "module" })`. */
  constructor(
    private readonly worker: WorkerLike,
    nodeUrl: string,
  ) {
    worker.addEventListener("message", (event) => this.onReply(event.data as WorkerReply));
    worker.addEventListener("error", (event) =>
      this.failAll(new Error(`the device worker failed: ${event.message ?? "unknown error"}`)),
    );
    void this.call({ op: "init", nodeUrl }).catch(() => undefined);
  }

  hash(seed: string, iterations: number, cpuShare: number): Promise<string> {
    return this.call({ op: "hash", seed, iterations, cpuShare }) as Promise<string>;
  }

  memoryProbe(seed: string, memoryMiB: number): Promise<string> {
    return this.call({ op: "memory", seed, memoryMiB }) as Promise<string>;
  }

  async prepare(
    artifacts: readonly string[],
    authorizations: Readonly<Record<string, string>> = {},
  ): Promise<void> {
    await this.call({ op: "prepare", artifacts, authorizations });
  }

  prove(input: CircuitInput, wasm: string, zkey: string): Promise<ProofOutput> {
    return this.call({ op: "prove", input, wasm, zkey }) as Promise<ProofOutput>;
  }

  /** Terminates the worker: a proof in progress stops at once, its call rejects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.terminate();
    this.failAll(new Error("stopped"));
  }

  private call(request: DistributiveOmit<WorkerRequest, "id">): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error("stopped"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as WorkerRequest);
    });
  }

  private onReply(reply: WorkerReply): void {
    const waiting = this.pending.get(reply.id);
    if (waiting === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(new Error(reply.error));
  }

  private failAll(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
