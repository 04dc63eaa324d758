import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pathSeed, Xoshiro128 } from "./prng.ts";

describe("Xoshiro128", () => {
  it("gives the same stream for the same seed and a different one for another seed", () => {
    const a = new Xoshiro128("s");
    const b = new Xoshiro128("s");
    const c = new Xoshiro128("t");
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it("draws floats in [0, 1) with a plausible mean and normals with unit variance", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (seed) => {
        const rng = new Xoshiro128(seed);
        let sum = 0;
        let squares = 0;
        for (let i = 0; i < 2000; i++) {
          const u = rng.nextFloat();
          expect(u).toBeGreaterThanOrEqual(0);
          expect(u).toBeLessThan(1);
          sum += u;
          const z = rng.nextNormal();
          squares += z * z;
        }
        expect(sum / 2000).toBeGreaterThan(0.45);
        expect(sum / 2000).toBeLessThan(0.55);
        expect(squares / 2000).toBeGreaterThan(0.85);
        expect(squares / 2000).toBeLessThan(1.15);
      }),
      { numRuns: 20 },
    );
  });

  it("derives path seeds from the master seed and the index only", () => {
    expect(pathSeed("m", 7)).toBe("m/path/7");
  });
});
