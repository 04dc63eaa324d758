import { describe, expect, it } from "vitest";
import { runMonteCarlo } from "./monteCarlo.ts";
import { renderReport } from "./report.ts";

describe("runMonteCarlo", () => {
  it("is bit-for-bit reproducible for a seed, in one thread or two", async () => {
    const options = { iterations: 1_080, seed: "mc-test" } as const;
    const progress: number[] = [];
    const one = await runMonteCarlo({ ...options, threads: 1 }, (p) => progress.push(p.done));
    const two = await runMonteCarlo({ ...options, threads: 2 });
    expect(JSON.stringify(two.scenarios)).toBe(JSON.stringify(one.scenarios));
    expect(progress.at(-1)).toBe(1_080);
    const other = await runMonteCarlo({ iterations: 1_080, seed: "mc-other", threads: 1 });
    expect(JSON.stringify(other.scenarios)).not.toBe(JSON.stringify(one.scenarios));
  });

  it("reports a probability with a confidence interval around it for every scenario", async () => {
    const r = await runMonteCarlo({ iterations: 450, seed: "ci", threads: 1 });
    expect(r.scenarios).toHaveLength(9);
    for (const s of r.scenarios) {
      expect(s.paths).toBe(50);
      expect(s.ci95[0]).toBeLessThanOrEqual(s.decouplingProbability);
      expect(s.ci95[1]).toBeGreaterThanOrEqual(s.decouplingProbability);
      expect(s.mean.outstandingDpn).toBeLessThanOrEqual(100_000_000);
    }
    // The reserve trades only in scenarios that have it.
    const none = r.scenarios.find((s) => s.id === "none");
    expect(none?.mean.reserveTrades).toBe(0);
    expect(none?.mean.fallbackRounds).toBe(0);
    const markdown = renderReport(r);
    expect(markdown).toContain("## Decoupling probability per scenario");
    expect(markdown).toContain("95% CI");
  });

  it("runs only the scenarios asked for", async () => {
    const r = await runMonteCarlo({
      iterations: 20,
      seed: "pick",
      threads: 1,
      scenarios: ["none", "all"],
    });
    expect(r.scenarios.map((s) => s.id)).toEqual(["none", "all"]);
    expect(r.scenarios.map((s) => s.paths)).toEqual([10, 10]);
  });

  it("holds compact series and the |deviation| histogram of every close", async () => {
    const r = await runMonteCarlo({
      iterations: 18,
      seed: "series",
      threads: 1,
      days: 10,
      stepHours: 1,
      scenarios: ["none", "all"],
    });
    for (const s of r.scenarios) {
      // 240 hourly closes, read every second one: 120 points, the last at the path's end.
      expect(s.series.hours).toHaveLength(120);
      expect(s.series.hours[0]).toBe(2);
      expect(s.series.hours.at(-1)).toBe(240);
      for (const values of [s.series.mintedDpn, s.series.burnedDpn, s.series.rigShare]) {
        expect(values).toHaveLength(120);
      }
      s.series.mintedDpn.forEach((minted, k) => {
        expect(minted).toBeGreaterThanOrEqual(s.series.mintedDpn[k - 1] ?? 0);
      });
      expect(s.series.mintedDpn.at(-1)).toBeCloseTo(s.mean.mintedDpn, 6);
      expect(s.series.outstandingDpn.at(-1)).toBeCloseTo(s.mean.outstandingDpn, 6);
      const closes = s.deviationHistogram.counts.reduce((sum, c) => sum + c, 0);
      expect(closes).toBe(s.paths * 240);
      expect(s.mean.classRewardGini).toBeGreaterThan(0);
      expect(s.mean.classRewardGini).toBeLessThan(1);
    }
  });
});
