import { seededRng } from "@dpn/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Compression,
  decodeUpdate,
  encodedBytes,
  encodeUpdate,
  encodeWithFeedback,
  MAX_UPDATE_BYTES,
  topKCount,
} from "./compression.ts";
import {
  FL_INVALID_COMPRESSION,
  FL_UPDATE_MALFORMED,
  FL_UPDATE_NOT_FINITE,
  FL_UPDATE_SHAPE_MISMATCH,
  FL_UPDATE_TOO_LARGE,
} from "./errors.ts";
import { MAX_MODEL_PARAMETERS } from "./modelSpec.ts";
import { errorCode } from "./testing.ts";

const updates = fc
  .array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
    minLength: 1,
    maxLength: 300,
  })
  .map((values) => Float32Array.from(values));

function roundTrip(update: Float32Array, compression: Compression): Float32Array {
  const encoded = encodeUpdate(update, compression, seededRng("q"));
  expect(encoded.bytes.length).toBe(encoded.bytesAfter);
  expect(encoded.bytesAfter).toBe(encodedBytes(update.length, compression));
  expect(encoded.bytesBefore).toBe(4 * update.length);
  return decodeUpdate(encoded.bytes, update.length);
}

function range(update: Float32Array): number {
  return Math.max(...update) - Math.min(...update);
}

describe("update compression", () => {
  it("round-trips a dense update exactly", () => {
    fc.assert(
      fc.property(updates, (update) => {
        expect(roundTrip(update, { kind: "none" })).toEqual(update);
      }),
    );
  });

  it("top-k keeps the k largest magnitudes exactly and drops nothing larger", () => {
    fc.assert(
      fc.property(updates, fc.double({ min: 0.01, max: 1, noNaN: true }), (update, fraction) => {
        const decoded = roundTrip(update, { kind: "topk", fraction });
        const k = topKCount(update.length, fraction);
        let kept = 0;
        let smallestKept = Number.POSITIVE_INFINITY;
        let largestDropped = 0;
        update.forEach((value, i) => {
          if (decoded[i] === value && value !== 0) {
            kept += 1;
            smallestKept = Math.min(smallestKept, Math.abs(value));
          } else if (decoded[i] === 0) {
            largestDropped = Math.max(largestDropped, Math.abs(value));
          } else {
            throw new Error(`coordinate ${i} changed value`);
          }
        });
        expect(kept).toBeLessThanOrEqual(k);
        expect(largestDropped).toBeLessThanOrEqual(smallestKept);
      }),
    );
  });

  it("8-bit quantisation is off by at most half a step, step = range / 255", () => {
    fc.assert(
      fc.property(updates, (update) => {
        const decoded = roundTrip(update, { kind: "quantize8" });
        const bound = range(update) / 255 / 2;
        update.forEach((value, i) => {
          expect(Math.abs((decoded[i] as number) - value)).toBeLessThanOrEqual(
            bound * (1 + 1e-5) + 1e-6 * Math.abs(value) + 1e-30,
          );
        });
      }),
    );
  });

  it("stochastic rounding is off by at most one step and unbiased on average", () => {
    const update = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i) * 0.37);
    const step = range(update) / 255;
    let bias = 0;
    const runs = 20;
    for (let run = 0; run < runs; run++) {
      const encoded = encodeUpdate(
        update,
        { kind: "quantize8", rounding: "stochastic" },
        seededRng(`s${run}`),
      );
      const decoded = decodeUpdate(encoded.bytes, update.length);
      update.forEach((value, i) => {
        const error = (decoded[i] as number) - value;
        expect(Math.abs(error)).toBeLessThanOrEqual(step * (1 + 1e-5));
        bias += error;
      });
    }
    // Mean error over 40,000 draws of a ±step/2-wide variable: well inside step/100.
    expect(Math.abs(bias / (runs * update.length))).toBeLessThan(step / 100);
  });

  it("combines top-k and quantisation within both bounds", () => {
    fc.assert(
      fc.property(updates, fc.double({ min: 0.05, max: 0.5, noNaN: true }), (update, fraction) => {
        const decoded = roundTrip(update, { kind: "topk+quantize8", fraction });
        const kept = update.filter((_, i) => decoded[i] !== 0 || update[i] === 0);
        const step = kept.length > 0 ? range(Float32Array.from(kept)) / 255 : 0;
        const k = topKCount(update.length, fraction);
        const threshold = [...update].map(Math.abs).sort((a, b) => b - a)[k - 1] as number;
        update.forEach((value, i) => {
          const error = Math.abs((decoded[i] as number) - value);
          // Either kept (quantisation error) or dropped (no larger than the k-th magnitude).
          expect(error).toBeLessThanOrEqual(
            Math.max(step * 0.5 * (1 + 1e-5) + 1e-6, threshold + 1e-6),
          );
        });
      }),
    );
  });

  it("reports bytes before and after: 10% top-k with 8 bits is ~1/13 of dense", () => {
    const update = Float32Array.from({ length: 10_000 }, (_, i) => Math.cos(i));
    const dense = encodeUpdate(update, { kind: "none" });
    const packed = encodeUpdate(update, { kind: "topk+quantize8", fraction: 0.1 });
    expect(dense.bytesBefore).toBe(40_000);
    expect(dense.bytesAfter).toBe(40_012);
    // 12 header + 8 range + 1,000 × (2-byte index + 1-byte code).
    expect(packed.bytesAfter).toBe(3_020);
    expect(encodeUpdate(update, { kind: "quantize8" }).bytesAfter).toBe(10_020);
  });

  it("error feedback carries what compression dropped into the next update", () => {
    const update = Float32Array.from([1, 0.5, 0.25, 0.125]);
    const first = encodeWithFeedback(update, undefined, { kind: "topk", fraction: 0.25 });
    expect(decodeUpdate(first.encoded.bytes, 4)).toEqual(Float32Array.from([1, 0, 0, 0]));
    expect(first.residual).toEqual(Float32Array.from([0, 0.5, 0.25, 0.125]));
    const second = encodeWithFeedback(update, first.residual, { kind: "topk", fraction: 0.25 });
    expect(decodeUpdate(second.encoded.bytes, 4)).toEqual(Float32Array.from([1, 0, 0, 0]));
    expect(second.residual).toEqual(Float32Array.from([0, 1, 0.5, 0.25]));
    const third = encodeWithFeedback(update, second.residual, { kind: "topk", fraction: 0.25 });
    // The held-back coordinate grew until it is sent.
    expect(decodeUpdate(third.encoded.bytes, 4)).toEqual(Float32Array.from([0, 1.5, 0, 0]));
  });

  it("refuses bad parameters and non-finite updates", () => {
    const update = Float32Array.from([1, 2, 3]);
    expect(errorCode(() => encodeUpdate(update, { kind: "topk", fraction: 0 }))).toBe(
      FL_INVALID_COMPRESSION,
    );
    expect(errorCode(() => encodeUpdate(update, { kind: "topk", fraction: 1.5 }))).toBe(
      FL_INVALID_COMPRESSION,
    );
    expect(
      errorCode(() => encodeUpdate(update, { kind: "quantize8", rounding: "stochastic" })),
    ).toBe(FL_INVALID_COMPRESSION);
    expect(errorCode(() => encodeUpdate(update, { kind: "zip" } as never))).toBe(
      FL_INVALID_COMPRESSION,
    );
    expect(
      errorCode(() => encodeUpdate(Float32Array.from([1, Number.NaN]), { kind: "none" })),
    ).toBe(FL_UPDATE_NOT_FINITE);
    expect(
      errorCode(() => encodeUpdate(new Float32Array(MAX_MODEL_PARAMETERS + 1), { kind: "none" })),
    ).toBe(FL_UPDATE_TOO_LARGE);
  });

  it("refuses oversized, truncated, foreign and inconsistent encodings with codes", () => {
    const update = Float32Array.from({ length: 100 }, (_, i) => i / 7);
    const sparse = encodeUpdate(update, { kind: "topk", fraction: 0.1 }).bytes;
    expect(errorCode(() => decodeUpdate(new Uint8Array(MAX_UPDATE_BYTES + 1), 100))).toBe(
      FL_UPDATE_TOO_LARGE,
    );
    expect(errorCode(() => decodeUpdate(sparse.subarray(0, sparse.length - 1), 100))).toBe(
      FL_UPDATE_MALFORMED,
    );
    expect(errorCode(() => decodeUpdate(new Uint8Array(8), 100))).toBe(FL_UPDATE_MALFORMED);
    expect(errorCode(() => decodeUpdate(sparse, 101))).toBe(FL_UPDATE_SHAPE_MISMATCH);
    const badVersion = new Uint8Array(sparse);
    badVersion[2] = 9;
    expect(errorCode(() => decodeUpdate(badVersion, 100))).toBe(FL_UPDATE_MALFORMED);
    const badFlags = new Uint8Array(sparse);
    badFlags[3] = 4;
    expect(errorCode(() => decodeUpdate(badFlags, 100))).toBe(FL_UPDATE_MALFORMED);
    // Swap the first two indices: no longer strictly increasing.
    const unordered = new Uint8Array(sparse);
    unordered.set(sparse.subarray(14, 16), 12);
    unordered.set(sparse.subarray(12, 14), 14);
    expect(errorCode(() => decodeUpdate(unordered, 100))).toBe(FL_UPDATE_MALFORMED);
    const nan = encodeUpdate(update, { kind: "none" }).bytes;
    new DataView(nan.buffer).setFloat32(12, Number.NaN, true);
    expect(errorCode(() => decodeUpdate(nan, 100))).toBe(FL_UPDATE_MALFORMED);
  });
});
