import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { burningDecision, MAX_BURN_BPS } from "./burning.ts";
import { errorCode } from "./testing.ts";

describe("burning controller (§4.2)", () => {
  it("burns 15% more and puts 20% of the excess on standby when supply exceeds demand", () => {
    const d = burningDecision({ supplyCu: 1000, demandCu: 600, standbyCu: 0, reserveInterest: 5n });
    expect(d.level).toBe("excess");
    expect(d.burnBps).toBe(9200n);
    expect(d.coldStorageCu).toBe(80);
    expect(d.buyback).toBe(0n);
  });

  it("burns 20% less and releases 30% of standby capacity in a shortage", () => {
    const d = burningDecision({
      supplyCu: 1000,
      demandCu: 1500,
      standbyCu: 400,
      reserveInterest: 5n,
    });
    expect(d.level).toBe("shortage");
    expect(d.burnBps).toBe(6400n);
    expect(d.releaseCu).toBe(120);
  });

  it("fine-tunes by up to ±2% in balance and buys back with the reserve's interest", () => {
    const exact = burningDecision({
      supplyCu: 1000,
      demandCu: 1000,
      standbyCu: 0,
      reserveInterest: 7n,
    });
    expect(exact.level).toBe("balance");
    expect(exact.burnBps).toBe(8000n);
    expect(exact.buyback).toBe(7n);
    expect(
      burningDecision({ supplyCu: 1000, demandCu: 950, standbyCu: 0, reserveInterest: 0n }).burnBps,
    ).toBe(8080n);
    expect(
      burningDecision({ supplyCu: 1000, demandCu: 1100, standbyCu: 0, reserveInterest: 0n })
        .burnBps,
    ).toBe(7840n);
  });

  it("treats an idle network as balanced and demand without supply as a shortage", () => {
    expect(
      burningDecision({ supplyCu: 0, demandCu: 0, standbyCu: 0, reserveInterest: 0n }).level,
    ).toBe("balance");
    expect(
      burningDecision({ supplyCu: 0, demandCu: 5, standbyCu: 10, reserveInterest: 0n }).level,
    ).toBe("shortage");
  });

  it("keeps the burn rate within [0, 97%] and never burns less in excess than in shortage", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        fc.double({ min: 0, max: 1e12, noNaN: true }),
        (supplyCu, demandCu, standbyCu) => {
          const d = burningDecision({ supplyCu, demandCu, standbyCu, reserveInterest: 0n });
          expect(d.burnBps >= 0n && d.burnBps <= BigInt(MAX_BURN_BPS)).toBe(true);
          expect(d.coldStorageCu).toBeGreaterThanOrEqual(0);
          expect(d.releaseCu).toBeLessThanOrEqual(standbyCu);
        },
      ),
    );
  });

  it("rejects negative capacity", () => {
    expect(
      errorCode(() =>
        burningDecision({ supplyCu: -1, demandCu: 0, standbyCu: 0, reserveInterest: 0n }),
      ),
    ).toBe("PROTOCOL_INVALID_INPUT");
  });
});
