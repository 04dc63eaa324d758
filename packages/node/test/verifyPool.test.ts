import { afterEach, describe, expect, it } from "vitest";
import { BENCHMARK_WORK, iteratedSha256 } from "../src/devices/benchmark.ts";
import { VerifyPool } from "../src/verify/pool.ts";
import { SPIN_WORK } from "./adversarial/spinWork.ts";

/**
 * The verify pool's own guarantees, without a node: a request past its budget fails with
 * VERIFY_TIMEOUT and its process is replaced; a crashed process is replaced too; and the
 * replacement serves the requests that follow, queued ones included.
 */
const pools: VerifyPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});

function pool(budgetMs: number): VerifyPool {
  const p = new VerifyPool({ processes: 1, budgetMs });
  pools.push(p);
  return p;
}

const item = { seed: "ab".repeat(32), iterations: 1_000 };

describe("verify pool", () => {
  it("stops a request past its budget and serves the requests queued behind it", async () => {
    const p = pool(1_000);
    const endless = p.run(SPIN_WORK, {});
    const queued = p.run<string[]>(BENCHMARK_WORK, { items: [item] });
    await expect(endless).rejects.toMatchObject({ code: "VERIFY_TIMEOUT" });
    expect(await queued).toEqual([iteratedSha256(item.seed, item.iterations)]);
  });

  it("replaces a process that crashed, and the replacement answers", async () => {
    const p = pool(60_000);
    await expect(p.run(SPIN_WORK, { crash: true })).rejects.toThrow("exited");
    expect(await p.run<string[]>(BENCHMARK_WORK, { items: [item] })).toEqual([
      iteratedSha256(item.seed, item.iterations),
    ]);
  });
});
