import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FL_UPDATE_NORM_EXCEEDED,
  FL_UPDATE_NOT_FINITE,
  FL_UPDATE_SHAPE_MISMATCH,
} from "./errors.ts";
import { errorCode } from "./testing.ts";
import { boundUpdateNorm, checkUpdate } from "./updateBounds.ts";
import { l2Norm } from "./vectors.ts";

describe("update admission", () => {
  it("clips an update to the norm bound, keeping its direction", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        (values, maxNorm) => {
          const update = Float32Array.from(values);
          const bounded = boundUpdateNorm(update, maxNorm, "clip");
          expect(l2Norm(bounded.update)).toBeLessThanOrEqual(maxNorm * (1 + 1e-6));
          if (!bounded.clipped) expect(bounded.update).toBe(update);
          const scale = bounded.clipped ? maxNorm / bounded.norm : 1;
          update.forEach((v, i) => {
            expect(Math.abs((bounded.update[i] as number) - v * scale)).toBeLessThanOrEqual(
              1e-6 * maxNorm,
            );
          });
        },
      ),
    );
  });

  it("rejects an oversized update with FL_UPDATE_NORM_EXCEEDED when asked to", () => {
    const update = Float32Array.from([3, 4]);
    expect(boundUpdateNorm(update, 5, "reject")).toEqual({ update, norm: 5, clipped: false });
    expect(errorCode(() => boundUpdateNorm(update, 4.9, "reject"))).toBe(FL_UPDATE_NORM_EXCEEDED);
  });

  it("refuses updates of the wrong size or with NaN or infinity", () => {
    expect(errorCode(() => checkUpdate(new Float32Array(3), 4))).toBe(FL_UPDATE_SHAPE_MISMATCH);
    expect(errorCode(() => checkUpdate([1, 2] as never, 2))).toBe(FL_UPDATE_SHAPE_MISMATCH);
    expect(errorCode(() => checkUpdate(Float32Array.from([1, Number.NaN]), 2))).toBe(
      FL_UPDATE_NOT_FINITE,
    );
    expect(errorCode(() => checkUpdate(Float32Array.from([Number.POSITIVE_INFINITY, 0]), 2))).toBe(
      FL_UPDATE_NOT_FINITE,
    );
  });
});
