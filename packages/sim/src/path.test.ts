import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_SERIES_POINTS, seriesSampling } from "./path.ts";

describe("seriesSampling", () => {
  it("reads at most MAX_SERIES_POINTS closes, evenly, the last close always among them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 * 365 }), (steps) => {
        const { stride, points } = seriesSampling(steps);
        const sampled: number[] = [];
        for (let step = 0; step < steps; step++) {
          if ((step + 1) % stride === 0 || step === steps - 1) sampled.push(step);
        }
        expect(sampled).toHaveLength(points);
        expect(points).toBeLessThanOrEqual(MAX_SERIES_POINTS);
        expect(sampled.at(-1)).toBe(steps - 1);
        // Point k is written at index ⌊step / stride⌋ = k.
        expect(sampled.map((step) => Math.floor(step / stride))).toEqual(sampled.map((_, k) => k));
      }),
    );
  });
});
