import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ceilLog2,
  fragmentBound,
  fragmentCount,
  MAX_FRAGMENTS_PER_JOB,
  splitWork,
} from "./taskSplitting.ts";
import { errorCode } from "./testing.ts";

describe("task splitting (§3.4)", () => {
  it("computes ⌈log2 N⌉ exactly, including at powers of two", () => {
    expect([1, 2, 3, 4, 5, 1024, 1025, 5_000_000].map(ceilLog2)).toEqual([
      0, 1, 2, 2, 3, 10, 11, 23,
    ]);
  });

  it("splits 16 proofs over 1,000 devices into 10 fragments of at most 2", () => {
    const fragments = fragmentCount(1000, 16);
    expect(fragments).toBe(10);
    expect(splitWork(16, fragments)).toEqual([2, 2, 2, 2, 2, 2, 1, 1, 1, 1]);
    expect(fragmentBound(16, fragments)).toBe(2);
  });

  it("uses one fragment on an empty or one-device network", () => {
    expect(fragmentCount(0, 16)).toBe(1);
    expect(fragmentCount(1, 16)).toBe(1);
    expect(fragmentCount(2, 16)).toBe(1);
    expect(fragmentCount(3, 16)).toBe(2);
  });

  it("keeps fragments >= 1, <= items, <= N, with no fragment above its bound", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        (n, items) => {
          const f = fragmentCount(n, items);
          expect(f).toBeGreaterThanOrEqual(1);
          expect(f).toBeLessThanOrEqual(Math.min(items, MAX_FRAGMENTS_PER_JOB, Math.max(n, 1)));
          const sizes = splitWork(items, f);
          expect(sizes.reduce((a, b) => a + b, 0)).toBe(items);
          expect(Math.max(...sizes)).toBeLessThanOrEqual(fragmentBound(items, f));
          expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it("rejects impossible splits", () => {
    expect(errorCode(() => fragmentCount(10, 0))).toBe("PROTOCOL_INVALID_INPUT");
    expect(errorCode(() => fragmentCount(-1, 5))).toBe("PROTOCOL_INVALID_INPUT");
    expect(errorCode(() => splitWork(3, 4))).toBe("PROTOCOL_INVALID_INPUT");
  });
});
