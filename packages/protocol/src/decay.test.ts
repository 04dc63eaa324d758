import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { advanceRun, decayFactor, MS_PER_DAY, operatingDays } from "./decay.ts";
import { errorCode } from "./testing.ts";

describe("rig time decay (§3.2)", () => {
  it("follows e^(-0.03 t): 0.4066 after 30 days, floored at 0.01", () => {
    expect(decayFactor("rig", 0)).toBe(1);
    expect(decayFactor("rig", 30)).toBeCloseTo(0.40656966, 8);
    expect(decayFactor("rig", 100)).toBeCloseTo(0.04978707, 8);
    expect(decayFactor("rig", 200)).toBe(0.01);
  });

  it("does not touch other classes", () => {
    expect(decayFactor("server", 365)).toBe(1);
    expect(decayFactor("phone", 365)).toBe(1);
  });

  it("stays in (0, 1] and never increases with time", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        (a, b) => {
          const [t1, t2] = a <= b ? [a, b] : [b, a];
          const d1 = decayFactor("rig", t1);
          const d2 = decayFactor("rig", t2);
          expect(d1 > 0 && d1 <= 1).toBe(true);
          expect(d2).toBeLessThanOrEqual(d1);
        },
      ),
    );
  });

  it("keeps a run going through short breaks and restarts it after a week's rest", () => {
    const start = advanceRun(undefined, 0);
    const day3 = advanceRun(start, 3 * MS_PER_DAY);
    expect(operatingDays(day3, 3 * MS_PER_DAY)).toBe(3);
    const afterShortBreak = advanceRun(day3, 9 * MS_PER_DAY);
    expect(afterShortBreak.runStartMs).toBe(0);
    const afterRest = advanceRun(afterShortBreak, 16 * MS_PER_DAY);
    expect(afterRest.runStartMs).toBe(16 * MS_PER_DAY);
  });

  it("rejects negative or NaN days", () => {
    expect(errorCode(() => decayFactor("rig", -1))).toBe("PROTOCOL_INVALID_INPUT");
    expect(errorCode(() => decayFactor("rig", Number.NaN))).toBe("PROTOCOL_INVALID_INPUT");
  });
});
