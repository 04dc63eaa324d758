import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { seededRng } from "./rng.ts";

describe("seededRng", () => {
  it("is reproducible for a seed and differs across seeds", () => {
    const a = seededRng("job-1");
    const b = seededRng("job-1");
    const c = seededRng("job-2");
    const seqA = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(seqA);
  });

  it("matches the documented construction: SHA-256(SHA-256(seed) || uint64be(0))", async () => {
    // First word for seed "dpn", computed independently with node:crypto.
    const { createHash } = await import("node:crypto");
    const key = createHash("sha256").update("dpn").digest();
    const block = createHash("sha256")
      .update(Buffer.concat([key, Buffer.alloc(8)]))
      .digest();
    expect(seededRng("dpn").nextUint32()).toBe(block.readUInt32BE(0));
  });

  it("draws floats in [0, 1) and integers in range", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const rng = seededRng(seed);
        const x = rng.nextFloat();
        const k = rng.nextInt(n);
        expect(x >= 0 && x < 1).toBe(true);
        expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
      }),
    );
  });

  it("is roughly uniform", () => {
    const rng = seededRng("uniformity");
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const bucket = Math.floor(rng.nextFloat() * 10);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });
});
