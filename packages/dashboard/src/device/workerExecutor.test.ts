import { describe, expect, it } from "vitest";
import {
  WorkerExecutor,
  type WorkerLike,
  type WorkerReply,
  type WorkerRequest,
} from "./workerExecutor.ts";

/** A worker whose replies the test writes by hand. */
class FakeWorker implements WorkerLike {
  readonly requests: WorkerRequest[] = [];
  terminated = false;
  private onMessage: (event: { readonly data: unknown }) => void = () => undefined;
  private onError: (event: { readonly message?: string }) => void = () => undefined;

  postMessage(message: WorkerRequest): void {
    this.requests.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  addEventListener(type: "message" | "error", listener: (event: never) => void): void {
    if (type === "message")
      this.onMessage = listener as (event: { readonly data: unknown }) => void;
    else this.onError = listener as (event: { readonly message?: string }) => void;
  }
  reply(reply: WorkerReply): void {
    this.onMessage({ data: reply });
  }
  crash(message: string): void {
    this.onError({ message });
  }
}

describe("WorkerExecutor", () => {
  it("initialises the worker with the node's URL and matches replies to requests by id", async () => {
    const worker = new FakeWorker();
    const executor = new WorkerExecutor(worker, "http://node.test");
    expect(worker.requests[0]).toEqual({ op: "init", nodeUrl: "http://node.test", id: 1 });
    const hashed = executor.hash("00".repeat(32), 10, 0.5);
    const proved = executor.prove({ h0: "1" }, "a".repeat(64), "b".repeat(64));
    expect(worker.requests.slice(1).map((r) => [r.id, r.op])).toEqual([
      [2, "hash"],
      [3, "prove"],
    ]);
    worker.reply({ id: 3, ok: false, error: "witness failed" });
    worker.reply({ id: 2, ok: true, value: "ff".repeat(32) });
    await expect(hashed).resolves.toBe("ff".repeat(32));
    await expect(proved).rejects.toThrow("witness failed");
  });

  it("rejects what is pending when the worker crashes or is closed, and terminates it", async () => {
    const worker = new FakeWorker();
    const executor = new WorkerExecutor(worker, "http://node.test");
    const crashed = executor.prepare(["c".repeat(64)]);
    worker.crash("out of memory");
    await expect(crashed).rejects.toThrow(/device worker failed: out of memory/);
    const stopped = executor.hash("00".repeat(32), 10, 1);
    executor.close();
    await expect(stopped).rejects.toThrow("stopped");
    expect(worker.terminated).toBe(true);
    await expect(executor.hash("00".repeat(32), 1, 1)).rejects.toThrow("stopped");
  });
});
