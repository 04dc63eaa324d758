import { describe, expect, it } from "vitest";
import { gini, histogramPercentile, wilson95 } from "./stats.ts";

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
});
