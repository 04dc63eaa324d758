import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterStrike,
  isQuarantined,
  NO_STRIKES,
  DEFAULT_QUARANTINE_PARAMS as P,
  quarantineMs,
  type StrikeRecord,
} from "./quarantine.ts";

describe("quarantine", () => {
  it("starts a quarantine at the third refusal within the window, not before", () => {
    let record: StrikeRecord = NO_STRIKES;
    record = afterStrike(record, 1_000, P);
    record = afterStrike(record, 2_000, P);
    expect(isQuarantined(record, 2_000)).toBe(false);
    record = afterStrike(record, 3_000, P);
    expect(record).toMatchObject({ strikes: 0, quarantines: 1 });
    expect(record.quarantinedUntilMs).toBe(3_000 + P.baseMs);
    expect(isQuarantined(record, 3_000 + P.baseMs - 1)).toBe(true);
    expect(isQuarantined(record, 3_000 + P.baseMs)).toBe(false);
  });

  it("forgets refusals older than the window", () => {
    let record = afterStrike(NO_STRIKES, 0, P);
    record = afterStrike(record, 1, P);
    record = afterStrike(record, P.windowMs + 1, P);
    expect(record).toMatchObject({ strikes: 1, windowStartMs: P.windowMs + 1, quarantines: 0 });
  });

  it("doubles each quarantine, up to the maximum", () => {
    expect(quarantineMs(1, P)).toBe(P.baseMs);
    expect(quarantineMs(2, P)).toBe(2 * P.baseMs);
    expect(quarantineMs(3, P)).toBe(4 * P.baseMs);
    expect(quarantineMs(1_000, P)).toBe(P.maxMs);
  });

  it("never shortens a quarantine and never lets strikes exceed the threshold", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * P.windowMs }), { maxLength: 60 }),
        (gaps) => {
          let record: StrikeRecord = NO_STRIKES;
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            const next = afterStrike(record, t, P);
            expect(next.strikes).toBeLessThan(P.strikes);
            expect(next.quarantines).toBeGreaterThanOrEqual(record.quarantines);
            if (next.quarantines > record.quarantines) {
              expect(next.quarantinedUntilMs - t).toBeGreaterThanOrEqual(
                Math.min(P.maxMs, record.quarantinedUntilMs - t),
              );
            }
            record = next;
          }
        },
      ),
    );
  });
});
