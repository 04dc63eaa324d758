import { describe, expect, it } from "vitest";
import { DEFAULT_FLEET, type FleetSpec } from "./fleet.ts";
import { runNetwork } from "./network.ts";

const strip = <T extends { elapsedMs: number }>(r: T): Omit<T, "elapsedMs"> => {
  const { elapsedMs: _, ...rest } = r;
  return rest;
};

describe("runNetwork", () => {
  it("runs a small network for a day, balanced, with a positive finite rate every hour", () => {
    const r = runNetwork({ devices: 20_000, seed: "small" });
    expect(r.steps).toHaveLength(24);
    expect(r.ledger.balanced).toBe(true);
    expect(BigInt(r.ledger.outstanding) - BigInt(r.ledger.genesisOutstanding)).toBe(
      BigInt(r.ledger.replenished) - BigInt(r.ledger.burned),
    );
    for (const s of r.steps) {
      expect(Number.isFinite(s.cuPerDpn) && s.cuPerDpn > 0).toBe(true);
      expect(s.servedCu).toBeLessThanOrEqual(s.demandCu + 1e-6);
      expect(s.priceUsd).toBeGreaterThan(0);
    }
    expect(r.churn.left).toBeGreaterThan(0);
    expect(r.rewardGini).toBeGreaterThan(0);
    expect(r.rewardGini).toBeLessThan(1);
    // §3.2: a rig is never paid more per CU than others; servers out-earn phones per device.
    expect(r.meanEarnedDpnByClass.server).toBeGreaterThan(r.meanEarnedDpnByClass.phone);
  });

  it("is bit-for-bit reproducible for a seed", () => {
    const a = runNetwork({ devices: 5_000, seed: "repro", hours: 12 });
    const b = runNetwork({ devices: 5_000, seed: "repro", hours: 12 });
    const c = runNetwork({ devices: 5_000, seed: "other", hours: 12 });
    expect(JSON.stringify(strip(a))).toBe(JSON.stringify(strip(b)));
    expect(JSON.stringify(strip(a))).not.toBe(JSON.stringify(strip(c)));
  });

  it("applies MSF when rigs hold more than 5% of the capacity online, and not below", () => {
    const noRigs: FleetSpec = {
      ...DEFAULT_FLEET,
      rig: { ...DEFAULT_FLEET.rig, deviceShare: 0 },
      pc: {
        ...DEFAULT_FLEET.pc,
        deviceShare: DEFAULT_FLEET.pc.deviceShare + DEFAULT_FLEET.rig.deviceShare,
      },
    };
    const without = runNetwork({
      devices: 5_000,
      seed: "msf",
      hours: 4,
      fleet: noRigs,
      rigJoinShare: 0,
    });
    const withRigs = runNetwork({ devices: 5_000, seed: "msf", hours: 4 });
    for (const s of without.steps) {
      expect(s.rigShare).toBe(0);
      expect(s.msf).toBe(1);
    }
    for (const s of withRigs.steps) {
      expect(s.rigShare).toBeGreaterThan(0.05);
      expect(s.msf).toBe(1.2);
    }
  });

  it("applies EHF when long-tail devices exceed 60% of those online, and not below", () => {
    const fewLongTail: FleetSpec = {
      ...DEFAULT_FLEET,
      phone: { ...DEFAULT_FLEET.phone, deviceShare: 0.05 },
      iot: { ...DEFAULT_FLEET.iot, deviceShare: 0.05 },
      browser: { ...DEFAULT_FLEET.browser, deviceShare: 0.05 },
      pc: { ...DEFAULT_FLEET.pc, deviceShare: 0.747 },
    };
    const low = runNetwork({ devices: 5_000, seed: "ehf", hours: 4, fleet: fewLongTail });
    const high = runNetwork({ devices: 5_000, seed: "ehf", hours: 4 });
    for (const s of low.steps) {
      expect(s.longTailShare).toBeLessThan(0.6);
      expect(s.ehf).toBe(1);
    }
    for (const s of high.steps) {
      expect(s.longTailShare).toBeGreaterThan(0.6);
      expect(s.ehf).toBeCloseTo(1.1, 12);
    }
  });

  it("puts capacity on standby in excess and burns more (§4.2), only with the controller on", () => {
    const on = runNetwork({ devices: 5_000, seed: "burn", hours: 6, demandToCapacity: 0.2 });
    const off = runNetwork({
      devices: 5_000,
      seed: "burn",
      hours: 6,
      demandToCapacity: 0.2,
      mechanisms: { oracleFallback: true, burningController: false, reserve: true },
    });
    expect(on.steps[0]?.burnBps).toBe(9_200);
    expect(on.steps.some((s) => s.standbyCu > 0)).toBe(true);
    for (const s of off.steps) {
      expect(s.burnBps).toBe(8_000);
      expect(s.standbyCu).toBe(0);
    }
  });

  it("records the reward Gini over time, of every device in a small network", () => {
    const r = runNetwork({ devices: 4_000, seed: "gini", hours: 12 });
    expect(r.rewardGiniSeries.hours).toEqual(Array.from({ length: 12 }, (_, h) => h));
    expect(r.rewardGiniSeries.sampleDevices).toBe(4_000);
    expect(r.rewardGiniSeries.gini.at(-1)).toBe(r.rewardGini);
  });
});
