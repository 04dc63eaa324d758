import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clampShare, idleMsAfter, MAX_IDLE_MS, MIN_CPU_SHARE, pauseReason } from "./dutyCycle.ts";

describe("CPU share as a duty cycle", () => {
  it("rests t·(1−share)/share after t of work", () => {
    expect(idleMsAfter(1000, 1)).toBe(0);
    expect(idleMsAfter(1000, 0.5)).toBe(1000);
    expect(idleMsAfter(1000, 0.25)).toBe(3000);
    expect(idleMsAfter(300, 0.75)).toBeCloseTo(100, 9);
  });

  it("keeps work at exactly the share of wall time, below the longest rest", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 5_000, noNaN: true }),
        fc.double({ min: MIN_CPU_SHARE, max: 1, noNaN: true }),
        (workMs, share) => {
          const idle = idleMsAfter(workMs, share);
          expect(idle).toBeGreaterThanOrEqual(0);
          expect(workMs / (workMs + idle)).toBeCloseTo(share, 9);
        },
      ),
    );
  });

  it("never rests longer than MAX_IDLE_MS and never works more than asked", () => {
    expect(idleMsAfter(3_600_000, 0.1)).toBe(MAX_IDLE_MS);
    fc.assert(
      fc.property(fc.double({ noNaN: false }), fc.double({ noNaN: false }), (workMs, share) => {
        const idle = idleMsAfter(workMs, share);
        expect(idle >= 0 && idle <= MAX_IDLE_MS).toBe(true);
        const clamped = clampShare(share);
        expect(clamped >= MIN_CPU_SHARE && clamped <= 1).toBe(true);
      }),
    );
  });

  it("treats a nonsense share as the minimum, not as full speed", () => {
    expect(clampShare(Number.NaN)).toBe(MIN_CPU_SHARE);
    expect(clampShare(0)).toBe(MIN_CPU_SHARE);
    expect(clampShare(-1)).toBe(MIN_CPU_SHARE);
    expect(clampShare(7)).toBe(1);
    expect(idleMsAfter(100, 0)).toBe(900);
  });
});

describe("pausing", () => {
  const visible = { hidden: false, battery: undefined, runOnBattery: false };

  it("works while visible, on mains or where the browser does not report a battery", () => {
    expect(pauseReason(visible)).toBeUndefined();
    expect(pauseReason({ ...visible, battery: { charging: true } })).toBeUndefined();
  });

  it("pauses while the tab is hidden, whatever the battery", () => {
    expect(pauseReason({ ...visible, hidden: true })).toBe("tab hidden");
    expect(pauseReason({ hidden: true, battery: { charging: false }, runOnBattery: true })).toBe(
      "tab hidden",
    );
  });

  it("pauses on battery unless the user allowed it", () => {
    expect(pauseReason({ ...visible, battery: { charging: false } })).toBe("on battery");
    expect(
      pauseReason({ ...visible, battery: { charging: false }, runOnBattery: true }),
    ).toBeUndefined();
  });
});
