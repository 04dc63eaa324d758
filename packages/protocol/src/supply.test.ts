import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONE_DPN } from "./amount.ts";
import {
  emissionReplenishment,
  GENESIS_BUCKETS,
  genesisAllocation,
  TOTAL_SUPPLY_CAP,
} from "./supply.ts";
import { errorCode } from "./testing.ts";

describe("supply (§4.1)", () => {
  it("allocates 100M DPN: 55% mining, 10% governance, 15% reserve, 10% liquidity, 10% contributors", () => {
    const a = genesisAllocation();
    expect(a.miningEmission).toBe(55_000_000n * ONE_DPN);
    expect(a.governanceFund).toBe(10_000_000n * ONE_DPN);
    expect(a.reservePool).toBe(15_000_000n * ONE_DPN);
    expect(GENESIS_BUCKETS.reduce((s, b) => s + a[b], 0n)).toBe(TOTAL_SUPPLY_CAP);
  });

  it("sums to any cap exactly", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (cap) => {
        const a = genesisAllocation(cap);
        expect(GENESIS_BUCKETS.reduce((s, b) => s + a[b], 0n)).toBe(cap);
      }),
    );
  });

  it("re-issues burned supply into the emission pool, never past the cap", () => {
    const cap = TOTAL_SUPPLY_CAP;
    expect(emissionReplenishment(1000n, cap - 1000n, 10_000n)).toBe(1000n);
    expect(emissionReplenishment(1000n, cap - 1000n, 5_000n)).toBe(500n);
    expect(emissionReplenishment(1000n, cap - 10n, 10_000n)).toBe(10n);
    expect(errorCode(() => emissionReplenishment(1n, cap + 1n, 10_000n))).toBe(
      "SUPPLY_CAP_EXCEEDED",
    );
  });
});
