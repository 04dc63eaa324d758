import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_AMOUNT, ONE_DPN } from "./amount.ts";
import { splitPayment } from "./paymentSplit.ts";
import { errorCode } from "./testing.ts";

describe("payment split (§3.4, §4.3)", () => {
  it("burns 80%, funds 3% and reserves 17% of 0.2 DPN at the base burn rate", () => {
    const split = splitPayment(ONE_DPN / 5n, 8000n);
    expect(split.burn).toBe(160_000_000_000_000_000n);
    expect(split.antiMonopolyFund).toBe(6_000_000_000_000_000n);
    expect(split.reserve).toBe(34_000_000_000_000_000n);
  });

  it("gives rounding dust to the reserve", () => {
    expect(splitPayment(99n, 8000n)).toEqual({ burn: 79n, antiMonopolyFund: 2n, reserve: 18n });
  });

  it("adds up to the payment exactly, with no negative part", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_AMOUNT }),
        fc.bigInt({ min: 0n, max: 9700n }),
        (payment, burnBps) => {
          const { burn, antiMonopolyFund, reserve } = splitPayment(payment, burnBps);
          expect(burn + antiMonopolyFund + reserve).toBe(payment);
          expect(burn >= 0n && antiMonopolyFund >= 0n && reserve >= 0n).toBe(true);
        },
      ),
    );
  });

  it("rejects negative payments and burn rates that leave no room for the fund", () => {
    expect(errorCode(() => splitPayment(-1n, 8000n))).toBe("PROTOCOL_INVALID_INPUT");
    expect(errorCode(() => splitPayment(100n, 9800n))).toBe("PROTOCOL_INVALID_INPUT");
  });
});
