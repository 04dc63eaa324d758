import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FL_INVALID_AGGREGATION, FL_UPDATE_SHAPE_MISMATCH } from "../errors.ts";
import { errorCode } from "../testing.ts";
import { weightedMean } from "./fedAvg.ts";
import { aggregateUpdates } from "./rules.ts";

const value = fc.float({ min: -100, max: 100, noNaN: true, noDefaultInfinity: true });

const contributions = fc.integer({ min: 1, max: 12 }).chain((d) =>
  fc.array(
    fc.record({
      update: fc.array(value, { minLength: d, maxLength: d }).map((v) => Float32Array.from(v)),
      samples: fc.integer({ min: 1, max: 10_000 }),
    }),
    { minLength: 1, maxLength: 20 },
  ),
);

describe("FedAvg aggregation", () => {
  it("equals the sample-weighted mean Σ nᵢΔᵢ / Σ nᵢ, coordinate by coordinate", () => {
    fc.assert(
      fc.property(contributions, (cs) => {
        const aggregate = aggregateUpdates({ kind: "mean" }, cs);
        const total = cs.reduce((sum, c) => sum + c.samples, 0);
        const d = (cs[0] as { update: Float32Array }).update.length;
        for (let i = 0; i < d; i++) {
          let expected = 0;
          for (const c of cs) expected += (c.samples * (c.update[i] as number)) / total;
          // float32 storage of the float64 mean: relative 2^-24, absolute for values near 0.
          expect(Math.abs((aggregate[i] as number) - expected)).toBeLessThanOrEqual(
            Math.abs(expected) * 2 ** -23 + 1e-9,
          );
        }
      }),
    );
  });

  it("is the plain mean when every device has as many examples", () => {
    const mean = weightedMean([Float32Array.from([1, 2]), Float32Array.from([3, 6])], [5, 5]);
    expect(mean).toEqual(Float32Array.from([2, 4]));
    expect(weightedMean([Float32Array.from([1, 2]), Float32Array.from([3, 6])], [1, 3])).toEqual(
      Float32Array.from([2.5, 5]),
    );
  });

  it("refuses no updates, mismatched lengths and bad weights", () => {
    expect(errorCode(() => weightedMean([], []))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => weightedMean([new Float32Array(2), new Float32Array(3)], [1, 1]))).toBe(
      FL_UPDATE_SHAPE_MISMATCH,
    );
    expect(errorCode(() => weightedMean([new Float32Array(2)], [0]))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => weightedMean([new Float32Array(2)], [-1]))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => weightedMean([new Float32Array(2)], [1, 1]))).toBe(
      FL_INVALID_AGGREGATION,
    );
    expect(errorCode(() => aggregateUpdates({ kind: "krum" } as never, []))).toBe(
      FL_INVALID_AGGREGATION,
    );
  });
});
