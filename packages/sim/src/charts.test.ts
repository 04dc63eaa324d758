import { describe, expect, it } from "vitest";
import { buildCharts, type Chart } from "./charts.ts";
import { type MonteCarloResult, runMonteCarlo } from "./monteCarlo.ts";
import { runNetwork } from "./network.ts";

type Row = Record<string, string | number>;

/** The inline rows of a chart's spec (every chart carries its data inline). */
function rows(chart: Chart | undefined): Row[] {
  const data = (chart?.spec as { data?: { values?: Row[] } } | undefined)?.data;
  if (data?.values === undefined) throw new Error(`chart ${chart?.name} has no inline data`);
  return data.values;
}

const byName = (charts: Chart[], name: string): Chart | undefined =>
  charts.find((c) => c.name === name);

describe("buildCharts (Monte Carlo)", async () => {
  const r = await runMonteCarlo({ iterations: 90, seed: "charts", threads: 1 });
  const charts = buildCharts(r);

  it("builds the five charts, the same for the same result", () => {
    expect(charts.map((c) => c.name)).toEqual([
      "deviation-distribution",
      "decoupling-probability",
      "supply",
      "rig-share",
      "reward-gini",
    ]);
    expect(JSON.stringify(buildCharts(r))).toBe(JSON.stringify(charts));
  });

  it("plots each scenario's decoupling probability and its 95% interval", () => {
    const plotted = rows(byName(charts, "decoupling-probability"));
    expect(plotted).toHaveLength(r.scenarios.length);
    r.scenarios.forEach((s, k) => {
      expect(plotted[k]).toMatchObject({
        scenario: s.label,
        probability: s.decouplingProbability,
        low: s.ci95[0],
        high: s.ci95[1],
      });
    });
  });

  it("plots every step close in the deviation histogram, the tail folded into the last bar", () => {
    const plotted = rows(byName(charts, "deviation-distribution"));
    for (const s of r.scenarios) {
      const bars = plotted.filter((row) => row.scenario === s.label);
      const share = bars.reduce((sum, row) => sum + Number(row.share), 0);
      expect(share).toBeCloseTo(1, 12);
      const closes = s.deviationHistogram.counts.reduce((sum, c) => sum + c, 0);
      expect(closes).toBe(s.paths * r.days);
      // Bars beyond the threshold are marked, those within are not.
      for (const row of bars) {
        expect(row.side).toBe(
          Number(row.from) >= r.decoupling.threshold * 100 ? "beyond" : "within",
        );
      }
    }
  });

  it("plots the supply, rig share and class reward Gini series of the result", () => {
    const supply = rows(byName(charts, "supply"));
    const all = r.scenarios.find((s) => s.id === "all");
    const minted = supply.filter(
      (row) => row.scenario === all?.label && row.measure === "minted since start",
    );
    expect(minted.map((row) => row.value)).toEqual(all?.series.mintedDpn);
    expect(minted.map((row) => row.day)).toEqual(all?.series.hours.map((h) => h / 24));
    const rig = rows(byName(charts, "rig-share"));
    expect(rig.map((row) => row.share)).toEqual(r.scenarios[0]?.series.rigShare);
    const gini = rows(byName(charts, "reward-gini"));
    expect(gini.map((row) => row.gini)).toEqual(r.scenarios.map((s) => s.mean.classRewardGini));
  });

  it("draws one rig-share line per scenario once the scenarios' means differ", () => {
    // Every scenario runs the same paths, so the means agree: one line. Shift one scenario's.
    const shifted: MonteCarloResult = {
      ...r,
      scenarios: r.scenarios.map((s, k) =>
        k === 1
          ? { ...s, series: { ...s.series, rigShare: s.series.rigShare.map((x) => x + 0.01) } }
          : s,
      ),
    };
    const rig = rows(byName(buildCharts(shifted), "rig-share"));
    expect(new Set(rig.map((row) => row.scenario)).size).toBe(r.scenarios.length);
    expect(rig).toHaveLength(r.scenarios.length * r.days);
  });
});

describe("buildCharts (network)", () => {
  const r = runNetwork({ devices: 3_000, seed: "charts", hours: 30 });
  const charts = buildCharts(r);

  it("builds supply, rig share, reward Gini and price charts from the hourly steps", () => {
    expect(charts.map((c) => c.name)).toEqual(["supply", "rig-share", "reward-gini", "price"]);
    const supply = rows(byName(charts, "supply"));
    const minted = supply.filter((row) => row.measure === "minted since start");
    expect(minted).toHaveLength(30);
    const total = r.steps.reduce((sum, s) => sum + s.mintedDpn, 0);
    expect(minted.at(-1)?.value).toBeCloseTo(total, 6);
    const gini = rows(byName(charts, "reward-gini"));
    expect(gini.map((row) => row.gini)).toEqual(r.rewardGiniSeries.gini);
    const prices = rows(byName(charts, "price")).filter(
      (row) => row.measure === "market (AMM spot)",
    );
    expect(prices.map((row) => row.value)).toEqual(r.steps.map((s) => s.priceUsd));
  });
});
