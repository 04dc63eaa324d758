import { MAX_AMOUNT } from "@dpn/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { positiveUnits, toUnits } from "./amounts.ts";

describe("amounts", () => {
  it("parses DPN strings exactly and passes bigints through", () => {
    expect(toUnits("a", "1.5")).toBe(15n * 10n ** 17n);
    expect(toUnits("a", "0.000000000000000001")).toBe(1n);
    expect(toUnits("a", MAX_AMOUNT)).toBe(MAX_AMOUNT);
  });

  it.each([
    ["zero", 0n, "AMOUNT_ZERO"],
    ["negative", -1n, "PROTOCOL_INVALID_INPUT"],
    ["above 2^255-1", MAX_AMOUNT + 1n, "AMOUNT_OUT_OF_RANGE"],
    ["19 decimals", "0.0000000000000000001", "AMOUNT_TOO_PRECISE"],
    ["exponent", "1e5", "AMOUNT_INVALID"],
    ["float", 1.5, "AMOUNT_INVALID"],
  ])("rejects %s as LEDGER_INVALID_AMOUNT", (_, value, reason) => {
    try {
      positiveUnits("amount", value as bigint);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: "LEDGER_INVALID_AMOUNT" });
      if (reason !== "AMOUNT_ZERO")
        expect((error as { details: { reason: string } }).details.reason).toBe(reason);
    }
  });

  it("round-trips every valid amount through its decimal string", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (units) => {
        const whole = units / 10n ** 18n;
        const fraction = (units % 10n ** 18n).toString().padStart(18, "0");
        expect(toUnits("a", `${whole}.${fraction}`)).toBe(units);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
