import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  dpnFromNumber,
  formatDpn,
  isqrt,
  MAX_AMOUNT,
  mulDiv,
  ONE_DPN,
  parseDpn,
  shareBps,
} from "./amount.ts";
import { errorCode as codeOf } from "./testing.ts";

describe("amounts", () => {
  it("parses decimal DPN strings exactly", () => {
    expect(parseDpn("12.5")).toBe(12n * ONE_DPN + ONE_DPN / 2n);
    expect(parseDpn("0.000000000000000001")).toBe(1n);
    expect(parseDpn("100000000")).toBe(100_000_000n * ONE_DPN);
  });

  it("rejects malformed, signed and over-precise amounts with codes", () => {
    expect(codeOf(() => parseDpn("-1"))).toBe("AMOUNT_INVALID");
    expect(codeOf(() => parseDpn("1e18"))).toBe("AMOUNT_INVALID");
    expect(codeOf(() => parseDpn(""))).toBe("AMOUNT_INVALID");
    expect(codeOf(() => parseDpn("0.0000000000000000001"))).toBe("AMOUNT_TOO_PRECISE");
    expect(codeOf(() => parseDpn("9".repeat(80)))).toBe("AMOUNT_OUT_OF_RANGE");
  });

  it("formats and parses back to the same amount", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_AMOUNT }), (units) => {
        expect(parseDpn(formatDpn(units))).toBe(units);
      }),
    );
  });

  it("rounds model quantities down to base units, never up", () => {
    expect(dpnFromNumber(1.5)).toBe(ONE_DPN + ONE_DPN / 2n);
    expect(dpnFromNumber(0)).toBe(0n);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (x) => {
        const units = dpnFromNumber(x);
        expect(units).toBeGreaterThanOrEqual(0n);
        expect(Number(units)).toBeLessThanOrEqual(x * 1e18);
      }),
    );
  });

  it("refuses NaN, infinities and negatives instead of returning them", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1]) {
      expect(codeOf(() => dpnFromNumber(bad))).toBe("PROTOCOL_INVALID_INPUT");
    }
  });

  it("takes basis-point shares with floor rounding", () => {
    expect(shareBps(10_000n, 300n)).toBe(300n);
    expect(shareBps(99n, 300n)).toBe(2n);
    expect(mulDiv(7n, 1n, 2n)).toBe(3n);
  });

  it("computes exact integer square roots", () => {
    expect(isqrt(0n)).toBe(0n);
    expect(isqrt(15n)).toBe(3n);
    expect(isqrt(16n)).toBe(4n);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n }), (n) => {
        const r = isqrt(n);
        expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
      }),
    );
  });
});
