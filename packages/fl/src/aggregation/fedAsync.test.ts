import { describe, expect, it } from "vitest";
import { FL_INVALID_AGGREGATION, FL_UPDATE_SHAPE_MISMATCH } from "../errors.ts";
import { errorCode } from "../testing.ts";
import { fedAsyncAlpha, fedAsyncMix, stalenessWeight } from "./fedAsync.ts";

describe("FedAsync", () => {
  it("discounts stale updates with the paper's staleness functions", () => {
    expect(stalenessWeight({ kind: "constant" }, 7)).toBe(1);
    expect(stalenessWeight({ kind: "polynomial", a: 0.5 }, 0)).toBe(1);
    expect(stalenessWeight({ kind: "polynomial", a: 0.5 }, 3)).toBe(0.5);
    expect(stalenessWeight({ kind: "hinge", a: 10, b: 4 }, 4)).toBe(1);
    expect(stalenessWeight({ kind: "hinge", a: 10, b: 4 }, 6)).toBeCloseTo(1 / 21, 12);
    expect(fedAsyncAlpha(0.6, { kind: "polynomial", a: 1 }, 2)).toBeCloseTo(0.2, 12);
  });

  it("mixes x ← (1 − αₜ)·x + αₜ·x_device", () => {
    const mixed = fedAsyncMix(Float32Array.from([0, 10]), Float32Array.from([4, 20]), 0.25);
    expect(mixed).toEqual(Float32Array.from([1, 12.5]));
  });

  it("refuses α outside (0, 1], negative staleness and mismatched models", () => {
    expect(errorCode(() => fedAsyncAlpha(0, { kind: "constant" }, 0))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => fedAsyncAlpha(1.5, { kind: "constant" }, 0))).toBe(
      FL_INVALID_AGGREGATION,
    );
    expect(errorCode(() => stalenessWeight({ kind: "constant" }, -1))).toBe(FL_INVALID_AGGREGATION);
    expect(errorCode(() => stalenessWeight({ kind: "polynomial", a: -1 }, 1))).toBe(
      FL_INVALID_AGGREGATION,
    );
    expect(errorCode(() => fedAsyncMix(new Float32Array(2), new Float32Array(3), 0.5))).toBe(
      FL_UPDATE_SHAPE_MISMATCH,
    );
  });
});
