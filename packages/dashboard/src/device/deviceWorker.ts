import { type Executor, localExecutor } from "./executor.ts";
import type { WorkerReply, WorkerRequest } from "./workerExecutor.ts";

/**
 * The device's Web Worker: runs the hash tasks, the capability benchmark and Groth16 proofs
 * (snarkjs, one core) for the page's agent. Requests are handled one at a time, in order.
 */
interface WorkerScope {
  postMessage(message: WorkerReply): void;
  addEventListener(type: "message", listener: (event: { data: WorkerRequest }) => void): void;
}

const scope = globalThis as unknown as WorkerScope;
let executor: Executor | undefined;
let queue: Promise<void> = Promise.resolve();

async function handle(request: WorkerRequest): Promise<unknown> {
  if (request.op === "init") {
    executor = localExecutor(request.nodeUrl);
    return null;
  }
  if (executor === undefined) throw new Error("the device worker was not initialised");
  switch (request.op) {
    case "hash":
      return executor.hash(request.seed, request.iterations, request.cpuShare);
    case "memory":
      return executor.memoryProbe(request.seed, request.memoryMiB);
    case "prepare":
      return executor.prepare(request.artifacts, request.authorizations).then(() => null);
    case "prove":
      return executor.prove(request.input, request.wasm, request.zkey);
  }
}

scope.addEventListener("message", (event) => {
  const request = event.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage({ id: request.id, ok: true, value: await handle(request) });
    } catch (error) {
      scope.postMessage({
        id: request.id,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
});
