import { join } from "node:path";
import {
  createPrivacyBudget,
  DP_BUDGET_EXCEEDED,
  DP_INVALID_EPSILON,
  remainingPrivacyBudget,
  seededRng,
} from "@dpn/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { ANALYTICS_NOISE_UNSUPPORTED } from "./errors.ts";
import { runFragmentQuery } from "./execute.ts";
import { combinePartials } from "./merge.ts";
import { releaseWithLaplace } from "./noise.ts";
import { type Partial, queryDigest } from "./partial.ts";
import { parseQuerySpec } from "./querySpec.ts";
import { errorCode, errorOf, tempDir, writeFragment } from "./testing.ts";

const spec = parseQuerySpec({
  select: [{ fn: "count" }, { fn: "sum", column: "x" }, { fn: "avg", column: "x" }],
  groupBy: ["g"],
  clamp: [{ column: "x", min: -10, max: 100 }],
});
let combined: Partial;

beforeAll(async () => {
  const path = join(tempDir(), "f.parquet");
  const rows = Array.from({ length: 400 }, (_, i) => [i % 2 === 0 ? "a" : "b", (i * 37) % 150]);
  await writeFragment(
    path,
    [
      { name: "g", type: "VARCHAR" },
      { name: "x", type: "BIGINT" },
    ],
    rows,
  );
  combined = combinePartials(spec, [(await runFragmentQuery({ path }, spec)).partial]);
});

describe("releaseWithLaplace", () => {
  it("adds noise of scale Δ/ε per quantity and charges ε once to the budget", () => {
    const budget = createPrivacyBudget("node-1", "flights");
    const { result, budget: after } = releaseWithLaplace(
      spec,
      combined,
      { epsilon: 2 },
      budget,
      seededRng("noise"),
    );
    // 4 quantities (count, sum, avg's sum and count): ε/4 = 0.5 each; Δ(sum) = max(|−10|, 100).
    expect(result.scales).toEqual([2, 200, 200]);
    expect(remainingPrivacyBudget(after).epsilon).toBe(6);
    expect(after.releases).toBe(1);
    expect(remainingPrivacyBudget(budget).epsilon).toBe(8);
    expect(result.columns).toEqual(["g", "count(*)", "sum(x)", "avg(x)"]);
    const [a] = result.rows;
    expect(a?.[0]).toEqual({ str: "a" });
    expect(Math.abs((a?.[1] as number) - 200)).toBeLessThan(2 * 36.1);
    const avg = a?.[3] as number;
    expect(avg).toBeGreaterThanOrEqual(-10);
    expect(avg).toBeLessThanOrEqual(100);
  });

  it("is reproducible from the seed", () => {
    const budget = createPrivacyBudget("node-1", "flights");
    const a = releaseWithLaplace(spec, combined, { epsilon: 1 }, budget, seededRng("s"));
    const b = releaseWithLaplace(spec, combined, { epsilon: 1 }, budget, seededRng("s"));
    expect(a.result).toEqual(b.result);
  });

  it("refuses a release beyond the budget with DP_BUDGET_EXCEEDED, spending nothing", () => {
    let budget = createPrivacyBudget("node-1", "flights");
    const rng = seededRng("budget");
    budget = releaseWithLaplace(spec, combined, { epsilon: 4 }, budget, rng).budget;
    budget = releaseWithLaplace(spec, combined, { epsilon: 3.5 }, budget, rng).budget;
    const error = errorCode(() => releaseWithLaplace(spec, combined, { epsilon: 1 }, budget, rng));
    expect(error).toBe(DP_BUDGET_EXCEEDED);
    expect(remainingPrivacyBudget(budget).epsilon).toBe(0.5);
    expect(errorCode(() => releaseWithLaplace(spec, combined, { epsilon: 0 }, budget, rng))).toBe(
      DP_INVALID_EPSILON,
    );
  });

  it("refuses aggregates without a finite sensitivity", async () => {
    const budget = createPrivacyBudget("node-1", "flights");
    const minSpec = parseQuerySpec({ select: [{ fn: "min", column: "x" }] });
    const unclamped = parseQuerySpec({ select: [{ fn: "sum", column: "x" }] });
    for (const s of [minSpec, unclamped]) {
      const error = await errorOf(() =>
        releaseWithLaplace(
          s,
          { ...combined, query: queryDigest(s) },
          { epsilon: 1 },
          budget,
          seededRng("x"),
        ),
      );
      expect(error.code).toBe(ANALYTICS_NOISE_UNSUPPORTED);
      expect(error.message).toMatch(/min|clamp/);
    }
  });
});
