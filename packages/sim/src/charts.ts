import type { TopLevelSpec } from "vega-lite";
import type { MonteCarloResult, ScenarioResult } from "./monteCarlo.ts";
import type { NetworkResult } from "./network.ts";
import { seriesSampling } from "./path.ts";
import { histogramPercentile } from "./stats.ts";

/**
 * Chart specifications (vega-lite) built from a result: pure functions of the result, data
 * inline, nothing fetched. `renderChart` (render.ts) turns one into SVG and PNG.
 */
export interface Chart {
  /** File name without extension, e.g. "decoupling-probability". */
  readonly name: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

/** The font the specs name; render.ts ships its TTF (DejaVu Sans), so text renders anywhere. */
export const CHART_FONT = "DejaVu Sans";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

const CONFIG = {
  font: CHART_FONT,
  background: "white",
  padding: 12,
  title: { anchor: "start", fontSize: 15, subtitleFontSize: 11, subtitleColor: "#555" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
} as const;

/** The charts a result holds data for (five for a Monte Carlo, four for a network run). */
export function buildCharts(result: MonteCarloResult | NetworkResult): Chart[] {
  return result.kind === "montecarlo" ? monteCarloCharts(result) : networkCharts(result);
}

type Row = Record<string, string | number>;

function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

function monteCarloCharts(r: MonteCarloResult): Chart[] {
  const labels = r.scenarios.map((s) => s.label);
  const perScenario = Math.round(r.iterations / Math.max(1, r.scenarios.length));
  const about = `${r.iterations.toLocaleString("en-US")} iterations (≈ ${perScenario.toLocaleString("en-US")} paths per scenario), seed ${r.seed}`;
  return [
    deviationDistribution(r, labels, about),
    decouplingProbability(r, labels, about),
    monteCarloSupply(r, labels, about),
    monteCarloRigShare(r, labels, about),
    classRewardGini(r, labels, about),
  ];
}

/** Bars of the deviation histogram: 1 percentage point (two of the result's 0.5-point bins). */
const DEVIATION_BAR = 0.01;

/**
 * Histogram of |P / Base_Price − 1| at every step close, one panel per scenario, each with its
 * own y scale (with the reserve most closes sit in the first bar, and a shared scale would
 * flatten every other panel). Bars are 1 point wide; everything beyond the largest p95 (rounded
 * up to 5 points, at least 1.5× the threshold) is folded into the last bar.
 */
function deviationDistribution(r: MonteCarloResult, labels: string[], about: string): Chart {
  const first = r.scenarios[0];
  const binWidth = first?.deviationHistogram.binWidth ?? 0.005;
  const binCount = first?.deviationHistogram.counts.length ?? 0;
  const group = Math.max(1, Math.round(DEVIATION_BAR / binWidth));
  const bar = group * binWidth;
  const p95 = Math.max(
    0,
    ...r.scenarios.map((s) => {
      const p = histogramPercentile(Float64Array.from(s.deviationHistogram.counts), binWidth, 95);
      return Number.isFinite(p) ? p : 0;
    }),
  );
  const xMax = Math.min(
    Math.ceil(binCount / group) * bar,
    Math.max(r.decoupling.threshold * 1.5, Math.ceil(p95 / 0.05 - 1e-9) * 0.05),
  );
  const bars = Math.max(1, Math.round(xMax / bar));
  const values: Row[] = [];
  for (const s of r.scenarios) {
    const counts = s.deviationHistogram.counts;
    const total = counts.reduce((sum, c) => sum + c, 0);
    for (let b = 0; b < bars; b++) {
      const to = b < bars - 1 ? (b + 1) * group : counts.length;
      const count = counts.slice(b * group, to).reduce((sum, c) => sum + c, 0);
      values.push({
        scenario: s.label,
        from: b * bar * 100,
        to: (b + 1) * bar * 100,
        share: total > 0 ? count / total : 0,
        side: b * bar >= r.decoupling.threshold - 1e-12 ? "beyond" : "within",
      });
    }
  }
  const title = "Price deviation from the anchor at step closes";
  return {
    name: "deviation-distribution",
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: [
          `|P / Base_Price − 1| at every ${r.stepHours}-hour close of every path, in ${pct(bar, 0)} bars; the last bar holds everything from ${pct((bars - 1) * bar, 0)}.`,
          `Orange: beyond the decoupling threshold (${pct(r.decoupling.threshold, 0)}). Each panel has its own y scale.`,
          about,
        ],
      },
      config: CONFIG,
      data: { values },
      columns: 3,
      facet: {
        field: "scenario",
        type: "nominal",
        sort: labels,
        header: { title: null, labelLimit: 0 },
      },
      resolve: { scale: { y: "independent" } },
      spec: {
        width: 240,
        height: 120,
        mark: { type: "bar", binSpacing: 0 },
        encoding: {
          x: {
            field: "from",
            type: "quantitative",
            bin: "binned",
            title: "|deviation| (%)",
            scale: { domain: [0, bars * bar * 100] },
          },
          x2: { field: "to" },
          y: {
            field: "share",
            type: "quantitative",
            title: "share of closes",
            axis: { format: ".0%" },
          },
          color: {
            field: "side",
            type: "nominal",
            scale: { domain: ["within", "beyond"], range: ["#4c78a8", "#f58518"] },
            legend: null,
          },
        },
      },
    },
  };
}

function decouplingProbability(r: MonteCarloResult, labels: string[], about: string): Chart {
  const values: Row[] = r.scenarios.map((s) => ({
    scenario: s.label,
    probability: s.decouplingProbability,
    low: s.ci95[0],
    high: s.ci95[1],
    text: pct(s.decouplingProbability, 1),
  }));
  const y = { field: "scenario", type: "nominal", sort: labels, title: null } as const;
  const title = "Decoupling probability per scenario";
  return {
    name: "decoupling-probability",
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: [
          `Share of paths with |P / Base_Price − 1| > ${pct(r.decoupling.threshold, 0)} at consecutive closes covering ≥ ${r.decoupling.minHours} h; lines: 95% Wilson interval.`,
          about,
        ],
      },
      config: CONFIG,
      data: { values },
      width: 420,
      height: { step: 26 },
      encoding: { y },
      layer: [
        {
          mark: { type: "bar", color: "#4c78a8" },
          encoding: {
            x: {
              field: "probability",
              type: "quantitative",
              title: "P(decoupled)",
              scale: { domain: [0, 1] },
              axis: { format: ".0%" },
            },
          },
        },
        {
          mark: { type: "rule", color: "#222" },
          encoding: { x: { field: "low", type: "quantitative" }, x2: { field: "high" } },
        },
        {
          mark: { type: "text", align: "left", dx: 6, fontSize: 11 },
          encoding: {
            x: { field: "high", type: "quantitative" },
            text: { field: "text", type: "nominal" },
          },
        },
      ],
    },
  };
}

function seriesRows(
  s: ScenarioResult,
  measures: ReadonlyArray<readonly [string, readonly number[]]>,
): Row[] {
  const rows: Row[] = [];
  s.series.hours.forEach((hour, k) => {
    for (const [measure, values] of measures) {
      rows.push({ scenario: s.label, day: hour / 24, measure, value: values[k] ?? 0 });
    }
  });
  return rows;
}

const SUPPLY_MEASURES = [
  "outstanding",
  "circulation (users)",
  "minted since start",
  "burned since start",
] as const;

interface LineChart {
  readonly name: string;
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly values: Row[];
  readonly x: { readonly field: string; readonly title: string };
  readonly y: {
    readonly field: string;
    readonly title: string;
    readonly format: string;
    readonly zero: boolean;
  };
  readonly color?: {
    readonly field: string;
    readonly title: string | null;
    readonly sort?: readonly string[];
  };
  /** One panel per value of `field` (in this order), each with its own y scale. */
  readonly rows?: { readonly field: string; readonly sort: readonly string[] };
}

/** Lines over time, coloured by a field, optionally one panel per measure. */
function lineChart(c: LineChart): Chart {
  const encoding = {
    x: {
      field: c.x.field,
      type: "quantitative",
      title: c.x.title,
      scale: { zero: true, nice: false },
    },
    y: {
      field: c.y.field,
      type: "quantitative",
      title: c.y.title,
      axis: { format: c.y.format },
      scale: { zero: c.y.zero },
    },
    ...(c.color === undefined
      ? {}
      : {
          color: {
            field: c.color.field,
            type: "nominal" as const,
            title: c.color.title,
            ...(c.color.sort === undefined ? {} : { sort: [...c.color.sort] }),
          },
        }),
  } as const;
  const mark = { type: "line", strokeWidth: 1.5 } as const;
  const common = {
    $schema: SCHEMA,
    title: { text: c.title, subtitle: [...c.subtitle] },
    config: CONFIG,
    data: { values: c.values },
  };
  const spec: TopLevelSpec =
    c.rows === undefined
      ? { ...common, width: 520, height: 220, mark, encoding }
      : {
          ...common,
          facet: {
            row: {
              field: c.rows.field,
              type: "nominal",
              sort: [...c.rows.sort],
              header: {
                title: null,
                labelAngle: 0,
                labelOrient: "top",
                labelAnchor: "start",
                labelFontWeight: "bold",
              },
            },
          },
          resolve: { scale: { y: "independent" } },
          spec: { width: 520, height: 110, mark, encoding },
        };
  return { name: c.name, title: c.title, spec };
}

function monteCarloSupply(r: MonteCarloResult, labels: string[], about: string): Chart {
  const values = r.scenarios.flatMap((s) =>
    seriesRows(s, [
      ["outstanding", s.series.outstandingDpn],
      ["circulation (users)", s.series.circulationDpn],
      ["minted since start", s.series.mintedDpn],
      ["burned since start", s.series.burnedDpn],
    ]),
  );
  return lineChart({
    name: "supply",
    title: "Supply, minted and burned over time",
    subtitle: ["Means over paths, DPN. Outstanding: every DPN not burned, pools included.", about],
    values,
    x: { field: "day", title: "day" },
    y: { field: "value", title: "DPN", format: "~s", zero: false },
    color: { field: "scenario", title: "scenario", sort: labels },
    rows: { field: "measure", sort: SUPPLY_MEASURES },
  });
}

/** Scenarios' mean rig shares closer than this are drawn as one line. */
const SAME_RIG_SHARE = 0.001;

function monteCarloRigShare(r: MonteCarloResult, labels: string[], about: string): Chart {
  const first = r.scenarios[0];
  // Rig capacity follows each path's rig-influx shocks only, and every scenario runs the same
  // paths: when the means agree (to one path more or less: iterations need not divide evenly),
  // one line says so rather than nine drawn on top of each other.
  const same =
    first !== undefined &&
    r.scenarios.every((s) =>
      s.series.rigShare.every(
        (x, k) => Math.abs(x - (first.series.rigShare[k] ?? Number.NaN)) <= SAME_RIG_SHARE,
      ),
    );
  const scenarios = same ? [first] : r.scenarios;
  const values: Row[] = scenarios.flatMap((s) =>
    s.series.hours.map((hour, k) => ({
      scenario: same ? `every scenario (means within ${pct(SAME_RIG_SHARE)} points)` : s.label,
      day: hour / 24,
      share: s.series.rigShare[k] ?? 0,
    })),
  );
  return lineChart({
    name: "rig-share",
    title: "Rig share of the capacity online over time",
    subtitle: ["Mean over paths; rig-influx shocks multiply rig capacity 3–10×.", about],
    values,
    x: { field: "day", title: "day" },
    y: { field: "share", title: "rig share", format: ".0%", zero: true },
    color: { field: "scenario", title: "scenario", ...(same ? {} : { sort: labels }) },
  });
}

function classRewardGini(r: MonteCarloResult, labels: string[], about: string): Chart {
  const values: Row[] = r.scenarios.map((s) => ({
    scenario: s.label,
    gini: s.mean.classRewardGini,
    text: s.mean.classRewardGini.toFixed(3),
  }));
  const y = { field: "scenario", type: "nominal", sort: labels, title: null } as const;
  const title = "Reward Gini between device classes per scenario";
  return {
    name: "reward-gini",
    title,
    spec: {
      $schema: SCHEMA,
      title: {
        text: title,
        subtitle: [
          "Mean over paths. The Monte Carlo's economy has no individual devices: every device of a class earns the class's mean,",
          "so this is the inequality between classes only (dpn sim network measures it per device).",
          about,
        ],
      },
      config: CONFIG,
      data: { values },
      width: 420,
      height: { step: 26 },
      encoding: { y },
      layer: [
        {
          mark: { type: "point", filled: true, size: 70, color: "#4c78a8" },
          encoding: {
            x: {
              field: "gini",
              type: "quantitative",
              title: "Gini (0 equal, 1 one class holds all)",
              scale: { zero: false, padding: 20 },
            },
          },
        },
        {
          mark: { type: "text", align: "left", dx: 8, fontSize: 11 },
          encoding: {
            x: { field: "gini", type: "quantitative" },
            text: { field: "text", type: "nominal" },
          },
        },
      ],
    },
  };
}

/** Every `stride`-th hour (and the last), as the Monte Carlo samples its series. */
function sampledHours(hours: number): number[] {
  const { stride } = seriesSampling(hours);
  const out: number[] = [];
  for (let hour = 0; hour < hours; hour++) {
    if ((hour + 1) % stride === 0 || hour === hours - 1) out.push(hour);
  }
  return out;
}

function networkCharts(r: NetworkResult): Chart[] {
  const about = `${r.devices.toLocaleString("en-US")} devices, ${r.hours} hours, seed ${r.seed}`;
  const sampled = sampledHours(r.steps.length);
  const stride = seriesSampling(r.steps.length).stride;
  // Supply: cumulative sums over every hour, read at the sampled hours.
  const genesisDpn = Number(BigInt(r.ledger.genesisOutstanding) / 10n ** 12n) / 1e6;
  const supply: Row[] = [];
  const shares: Row[] = [];
  const prices: Row[] = [];
  let minted = 0;
  let burned = 0;
  let replenished = 0;
  let next = 0;
  let rigSum = 0;
  let longTailSum = 0;
  let inWindow = 0;
  r.steps.forEach((step, i) => {
    minted += step.mintedDpn;
    burned += step.burnedDpn;
    replenished += step.replenishedDpn;
    rigSum += step.rigShare;
    longTailSum += step.longTailShare;
    inWindow += 1;
    if (sampled[next] !== i) return;
    next += 1;
    const hour = step.hour;
    supply.push(
      { hour, measure: "outstanding", value: genesisDpn + replenished - burned },
      { hour, measure: "minted since start", value: minted },
      { hour, measure: "burned since start", value: burned },
    );
    // Shares swing with the diurnal cycle: the mean over the sampling window, not one hour.
    shares.push(
      { hour, measure: "rigs' share of capacity online", value: rigSum / inWindow },
      { hour, measure: "long-tail share of devices online", value: longTailSum / inWindow },
    );
    prices.push(
      { hour, measure: "market (AMM spot)", value: step.priceUsd },
      { hour, measure: "oracle (published)", value: step.publishedPriceUsd },
    );
    rigSum = 0;
    longTailSum = 0;
    inWindow = 0;
  });
  const window = stride > 1 ? ` Shares: means over ${stride}-hour windows.` : "";
  const gini: Row[] = r.rewardGiniSeries.hours.map((hour, k) => ({
    hour,
    gini: r.rewardGiniSeries.gini[k] ?? 0,
  }));
  const x = { field: "hour", title: "hour" } as const;
  const measure = { field: "measure", title: null } as const;
  return [
    lineChart({
      name: "supply",
      title: "Supply, minted and burned over time",
      subtitle: [
        "DPN. Outstanding: every DPN not burned, pools included (burns are re-issued to the emission pool).",
        about,
      ],
      values: supply,
      x,
      y: { field: "value", title: "DPN", format: "~s", zero: false },
      rows: { field: "measure", sort: ["outstanding", "minted since start", "burned since start"] },
    }),
    lineChart({
      name: "rig-share",
      title: "Rig share of the capacity online over time",
      subtitle: [
        `MSF applies when rigs hold too much of the capacity online, EHF when long-tail devices are most of those online.${window}`,
        about,
      ],
      values: shares,
      x,
      y: { field: "value", title: "share", format: ".0%", zero: true },
      color: measure,
    }),
    lineChart({
      name: "reward-gini",
      title: "Reward Gini across devices over time",
      subtitle: [
        `Earnings since the start (or since a churned slot's device joined) of ${r.rewardGiniSeries.sampleDevices.toLocaleString("en-US")} sampled devices; of all devices at the end: ${r.rewardGini.toFixed(3)}.`,
        about,
      ],
      values: gini,
      x,
      y: {
        field: "gini",
        title: "Gini (0 equal, 1 one device holds all)",
        format: ".3f",
        zero: false,
      },
    }),
    lineChart({
      name: "price",
      title: "DPN price over time",
      subtitle: [
        "The AMM pool's spot price at each hour's close and the oracle's published price.",
        about,
      ],
      values: prices,
      x,
      y: { field: "value", title: "USD per DPN", format: ".3f", zero: false },
      color: measure,
    }),
  ];
}
