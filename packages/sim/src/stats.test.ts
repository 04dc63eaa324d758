import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gini, histogramPercentile, weightedGini, wilson95 } from "./stats.ts";

describe("stats", () => {
  it("Gini is 0 for equal values and near 1 when one holds everything", () => {
    expect(gini(Float64Array.from([2, 2, 2, 2]))).toBe(0);
    expect(gini(Float64Array.from([0, 0, 0, 10]))).toBeCloseTo(0.75, 12);
  });

  it("Wilson interval contains the estimate and stays in [0, 1]", () => {
    const [lo, hi] = wilson95(18, 100);
    expect(lo).toBeCloseTo(0.1171, 3);
    expect(hi).toBeCloseTo(0.2666, 3);
    expect(wilson95(0, 10)[0]).toBe(0);
  });

  it("reads percentiles from a histogram as bin upper edges", () => {
    expect(histogramPercentile(Float64Array.from([5, 5]), 0.5, 50)).toBe(0.5);
    expect(histogramPercentile(Float64Array.from([5, 5]), 0.5, 51)).toBe(1);
  });

  it("weighted Gini equals the Gini of the population its whole-number weights expand to", () => {
    const group = fc.record({ value: fc.integer({ min: 0, max: 1000 }), count: fc.nat(5) });
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 8 }), (groups) => {
        const population = groups.flatMap((g) => Array<number>(g.count).fill(g.value));
        const weighted = weightedGini(
          Float64Array.from(groups, (g) => g.value),
          Float64Array.from(groups, (g) => g.count),
        );
        expect(weighted).toBeCloseTo(gini(Float64Array.from(population)), 12);
      }),
    );
  });
});
