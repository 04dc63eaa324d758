import { describe, expect, it } from "vitest";
import { GroupCommit, type Pending } from "./groupCommit.ts";

describe("GroupCommit", () => {
  it("batches concurrent submissions and settles each after its flush", async () => {
    const flushed: number[][] = [];
    const queue = new GroupCommit<number, number>((batch: readonly Pending<number, number>[]) => {
      flushed.push(batch.map((p) => p.job));
      for (const p of batch)
        p.job % 2 === 0 ? p.resolve(p.job * 10) : p.reject(new Error(`odd ${p.job}`));
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => queue.submit(n)));
    expect(flushed).toEqual([[1, 2, 3, 4]]);
    expect(results.map((r) => r.status)).toEqual([
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
  });

  it("lets callers that resubmit after an acknowledgement join the next batch together", async () => {
    const sizes: number[] = [];
    const queue = new GroupCommit<number, number>((batch) => {
      sizes.push(batch.length);
      for (const p of batch) p.resolve(p.job);
    });
    await Promise.all(
      Array.from({ length: 8 }, async (_, caller) => {
        for (let i = 0; i < 5; i++) await queue.submit(caller);
      }),
    );
    expect(sizes).toEqual([8, 8, 8, 8, 8]);
  });

  it("splits a long queue into batches of at most maxBatch, and waits for in-flight async flushes", async () => {
    const sizes: number[] = [];
    const queue = new GroupCommit<number, number>(async (batch) => {
      sizes.push(batch.length);
      await new Promise((resolve) => setTimeout(resolve, 5));
      for (const p of batch) p.resolve(p.job);
    }, 3);
    const all = Promise.all(Array.from({ length: 7 }, (_, i) => queue.submit(i)));
    await queue.close();
    expect(await all).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sizes).toEqual([3, 3, 1]);
    await expect(queue.submit(9)).rejects.toMatchObject({ code: "LEDGER_CLOSED" });
  });

  it("rejects with LEDGER_OVERLOADED beyond maxPending", async () => {
    const queue = new GroupCommit<number, number>(
      (batch) => {
        for (const p of batch) p.resolve(p.job);
      },
      10,
      2,
    );
    const a = queue.submit(1);
    const b = queue.submit(2);
    await expect(queue.submit(3)).rejects.toMatchObject({ code: "LEDGER_OVERLOADED" });
    expect(await Promise.all([a, b])).toEqual([1, 2]);
  });

  it("rejects the whole batch if flush itself throws", async () => {
    const queue = new GroupCommit<number, number>(() => {
      throw new Error("disk on fire");
    });
    await expect(queue.submit(1)).rejects.toThrow("disk on fire");
  });
});
