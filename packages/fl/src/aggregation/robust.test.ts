import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FL_INVALID_AGGREGATION } from "../errors.ts";
import { errorCode } from "../testing.ts";
import { weightedMean } from "./fedAvg.ts";
import { coordinateMedian, trimmedMean } from "./robust.ts";

/**
 * 20% poisoned updates: honest updates anywhere in [−1, 1]^d, malicious ones anything up to
 * ±1e6 (boosted, sign-flipped, crafted per coordinate). The robust aggregates must stay inside
 * the honest values' range in every coordinate; the plain mean is dragged out of it.
 */
const poisoned = fc
  .record({
    d: fc.integer({ min: 1, max: 8 }),
    honest: fc.integer({ min: 4, max: 24 }),
  })
  .chain(({ d, honest }) => {
    const malicious = Math.floor(honest / 4); // malicious / total ≤ 20%
    const vector = (min: number, max: number) =>
      fc
        .array(fc.double({ min, max, noNaN: true }), { minLength: d, maxLength: d })
        .map((v) => Float32Array.from(v));
    return fc.record({
      honest: fc.array(vector(-1, 1), { minLength: honest, maxLength: honest }),
      malicious: fc.array(vector(-1e6, 1e6), { minLength: malicious, maxLength: malicious }),
    });
  });

function withinHonestRange(aggregate: Float32Array, honest: readonly Float32Array[]): boolean {
  return Array.from(aggregate).every((value, i) => {
    const column = honest.map((u) => u[i] as number);
    return value >= Math.min(...column) && value <= Math.max(...column);
  });
}

describe("robust aggregation", () => {
  it("coordinate-wise median stays within the honest range with 20% poisoned updates", () => {
    fc.assert(
      fc.property(poisoned, ({ honest, malicious }) => {
        const all = [...honest, ...malicious];
        expect(withinHonestRange(coordinateMedian(all), honest)).toBe(true);
      }),
    );
  });

  it("trimmed mean (β = 0.2) stays within the honest range with 20% poisoned updates", () => {
    fc.assert(
      fc.property(poisoned, ({ honest, malicious }) => {
        const all = [...malicious, ...honest];
        expect(withinHonestRange(trimmedMean(all, 0.2), honest)).toBe(true);
      }),
    );
  });

  it("whereas one boosted update drags the plain mean anywhere", () => {
    const honest = [Float32Array.from([0.1]), Float32Array.from([0.2]), Float32Array.from([0.3])];
    const all = [...honest, Float32Array.from([-1000])];
    expect(weightedMean(all, [1, 1, 1, 1])[0]).toBeLessThan(-200);
    expect(coordinateMedian(all)[0]).toBeCloseTo(0.15, 6);
  });

  it("computes medians and trimmed means exactly on small cases", () => {
    const u = [1, 5, 2, 100, 3].map((v) => Float32Array.from([v, -v]));
    expect(coordinateMedian(u)).toEqual(Float32Array.from([3, -3]));
    expect(coordinateMedian(u.slice(0, 4))).toEqual(Float32Array.from([3.5, -3.5]));
    // β = 0.2 of 5 trims one from each side: mean of 2, 3, 5.
    expect(trimmedMean(u, 0.2)).toEqual(Float32Array.from([10 / 3, -10 / 3]));
    expect(trimmedMean(u, 0)).toEqual(Float32Array.from([22.2, -22.2]));
  });

  it("refuses a trim that leaves nothing and an empty set", () => {
    expect(errorCode(() => trimmedMean([new Float32Array(1)], 0.5))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => trimmedMean([new Float32Array(1)], -0.1))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => coordinateMedian([]))).toBe(FL_INVALID_AGGREGATION);
  });
});
