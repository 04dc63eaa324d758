import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONE_DPN } from "./amount.ts";
import { antiDecoupling } from "./antiDecoupling.ts";
import { errorCode } from "./testing.ts";

const reserve = 15_000_000n * ONE_DPN;

describe("anti-decoupling (§4.3)", () => {
  it("does nothing within ±5%", () => {
    expect(antiDecoupling(0.1575, 0.15, reserve).action).toBe("none");
    expect(antiDecoupling(0.1425, 0.15, reserve).action).toBe("none");
  });

  it("sells 0.8 × 10% × reserve when DPN trades 10% above its anchor", () => {
    const d = antiDecoupling(0.165, 0.15, reserve);
    expect(d.action).toBe("sell-dpn");
    expect(d.amount).toBe(1_200_000n * ONE_DPN);
  });

  it("buys back when DPN trades below its anchor", () => {
    const d = antiDecoupling(0.12, 0.15, reserve);
    expect(d.action).toBe("buy-dpn");
    expect(d.amount).toBe(2_400_000n * ONE_DPN);
  });

  it("never trades more than 80% of what the reserve holds", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.bigInt({ min: 0n, max: 10n ** 27n }),
        (price, r) => {
          const d = antiDecoupling(price, 0.15, r);
          expect(d.amount >= 0n && d.amount <= (r * 8n) / 10n).toBe(true);
        },
      ),
    );
  });

  it("rejects a zero anchor", () => {
    expect(errorCode(() => antiDecoupling(0.1, 0, reserve))).toBe("PROTOCOL_INVALID_INPUT");
  });
});
