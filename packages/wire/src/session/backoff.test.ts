import { seededRng } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, DEFAULT_BACKOFF } from "./backoff.ts";

describe("backoffDelayMs", () => {
  it("stays within [cap/2, cap) where the cap doubles from 500 ms up to 30 s", () => {
    const rng = seededRng("backoff-bounds");
    for (let attempt = 0; attempt < 40; attempt++) {
      const cap = Math.min(30_000, 500 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelayMs(attempt, () => rng.nextFloat());
        expect(delay).toBeGreaterThanOrEqual(cap / 2);
        expect(delay).toBeLessThan(cap);
      }
    }
  });

  it("reaches both ends of the interval with extreme random draws", () => {
    expect(backoffDelayMs(0, () => 0)).toBe(250);
    expect(backoffDelayMs(0, () => 1)).toBe(499);
    expect(backoffDelayMs(10, () => 0)).toBe(15_000);
    expect(backoffDelayMs(1_000_000, () => 0.999_999)).toBeLessThan(DEFAULT_BACKOFF.maxMs);
  });

  it("is reproducible from a seed", () => {
    const draw = (seed: string): number[] => {
      const rng = seededRng(seed);
      return [0, 1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, () => rng.nextFloat()));
    };
    expect(draw("same")).toEqual(draw("same"));
  });
});
