import { DEVICE_CLASSES } from "@dpn/protocol";
import type { MonteCarloResult } from "./monteCarlo.ts";
import type { NetworkResult } from "./network.ts";

/** The definition of decoupling the Monte Carlo uses, in words (README, docs/protocol.md). */
export function decouplingDefinition(
  threshold: number,
  minHours: number,
  stepHours: number,
): string {
  return (
    `A path is **decoupled** when the DPN market price (the AMM pool's spot price at the close of ` +
    `each ${stepHours}-hour step, after the reserve has acted) deviates from the anchor ` +
    `Base_Price by more than ${pct(threshold)} in either direction, |P / Base_Price − 1| > ` +
    `${threshold}, at the close of consecutive steps covering at least ${minHours} hours. ` +
    `The decoupling probability of a scenario is the share of its paths that are decoupled.`
  );
}

function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

function num(x: number, digits = 0): string {
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

function onOff(value: boolean): string {
  return value ? "on" : "off";
}

/** A chart image the report links to, by paths relative to the report. */
export interface ReportChart {
  readonly title: string;
  readonly png: string;
  readonly svg: string;
}

export interface ReportOptions {
  /** Charts written beside the report (see buildCharts, renderChart): linked in a last section. */
  readonly charts?: readonly ReportChart[];
}

/** Markdown summary of a Monte Carlo or network result. */
export function renderReport(
  result: MonteCarloResult | NetworkResult,
  options: ReportOptions = {},
): string {
  const body = result.kind === "montecarlo" ? renderMonteCarlo(result) : renderNetwork(result);
  const charts = options.charts ?? [];
  if (charts.length === 0) return body;
  return [
    body,
    "## Charts",
    "",
    ...charts.flatMap((c) => [`![${c.title}](${c.png})`, "", `[${c.title} (SVG)](${c.svg})`, ""]),
  ].join("\n");
}

function renderMonteCarlo(r: MonteCarloResult): string {
  const perScenario = Math.round(r.iterations / Math.max(1, r.scenarios.length));
  const lines = [
    "# DPN Monte Carlo",
    "",
    `${num(r.iterations)} iterations (≈ ${num(perScenario)} paths per scenario, the same paths in every ` +
      `scenario), seed \`${r.seed}\`, ${r.days} days per path in ${r.stepHours}-hour steps, ` +
      `${r.threads} thread(s), ${num(r.elapsedMs / 1000, 1)} s.`,
    "",
    decouplingDefinition(r.decoupling.threshold, r.decoupling.minHours, r.stepHours),
    "",
    "## Decoupling probability per scenario",
    "",
    table(
      ["scenario", "fallback", "burning", "reserve", "paths", "P(decoupled)", "95% CI"],
      r.scenarios.map((s) => [
        s.label,
        onOff(s.mechanisms.oracleFallback),
        onOff(s.mechanisms.burningController),
        onOff(s.mechanisms.reserve) +
          (s.reserveStableUsd > 0 ? ` (+${num(s.reserveStableUsd)} stable)` : ""),
        num(s.paths),
        pct(s.decouplingProbability, 2),
        `${pct(s.ci95[0], 2)} – ${pct(s.ci95[1], 2)}`,
      ]),
    ),
    "",
    "## Price deviation",
    "",
    "|deviation| = |P / Base_Price − 1| at step closes. Step percentiles are read from 0.5-point bins (upper edge).",
    "",
    table(
      [
        "scenario",
        "time within 5%",
        "step p50",
        "step p90",
        "step p99",
        "path max p50",
        "path max p90",
        "path max p99",
      ],
      r.scenarios.map((s) => [
        s.id,
        pct(s.stepAbsDeviation.shareWithin5Pct),
        pct(s.stepAbsDeviation.p50),
        pct(s.stepAbsDeviation.p90),
        pct(s.stepAbsDeviation.p99),
        pct(s.maxAbsDeviation.p50),
        pct(s.maxAbsDeviation.p90),
        pct(s.maxAbsDeviation.p99),
      ]),
    ),
    "",
    "## Supply at the end (means over paths, DPN)",
    "",
    table(
      [
        "scenario",
        "minted",
        "burned",
        "outstanding",
        "circulation",
        "reserve DPN",
        "reserve stable",
        "fallback rounds",
        "reserve trades",
        "reward Gini between classes",
      ],
      r.scenarios.map((s) => [
        s.id,
        num(s.mean.mintedDpn),
        num(s.mean.burnedDpn),
        num(s.mean.outstandingDpn),
        num(s.mean.circulationDpn),
        num(s.mean.reserveDpn),
        num(s.mean.reserveStable),
        num(s.mean.fallbackRounds, 2),
        num(s.mean.reserveTrades, 2),
        s.mean.classRewardGini.toFixed(3),
      ]),
    ),
    "",
  ];
  return lines.join("\n");
}

function renderNetwork(r: NetworkResult): string {
  const last = r.steps[r.steps.length - 1];
  const toDpn = (units: string): string => num(Number(BigInt(units) / 10n ** 12n) / 1e6, 2);
  const every = Math.max(1, Math.ceil(r.steps.length / 24));
  return [
    "# DPN network simulation",
    "",
    `${num(r.devices)} devices, ${r.hours} hours, seed \`${r.seed}\`, ${num(r.elapsedMs / 1000, 1)} s. ` +
      `Churn: ${num(r.churn.left)} left, ${num(r.churn.joined)} joined.`,
    "",
    "## Supply (DPN)",
    "",
    table(
      [
        "minted",
        "burned",
        "replenished",
        "paid",
        "outstanding",
        "emission pool",
        "reserve",
        "circulation",
        "unminted",
        "balanced",
      ],
      [
        [
          toDpn(r.ledger.minted),
          toDpn(r.ledger.burned),
          toDpn(r.ledger.replenished),
          toDpn(r.ledger.paid),
          toDpn(r.ledger.outstanding),
          toDpn(r.ledger.emissionPool),
          toDpn(r.ledger.reserveDpn),
          toDpn(r.ledger.circulation),
          toDpn(r.ledger.unminted),
          r.ledger.balanced ? "yes" : "NO",
        ],
      ],
    ),
    "",
    "## Rewards",
    "",
    `Reward Gini across devices: **${r.rewardGini.toFixed(3)}**. Final rig share of capacity online: ` +
      `${pct(last?.rigShare ?? 0)} (MSF ${last?.msf ?? 1}), long-tail share of devices online: ` +
      `${pct(last?.longTailShare ?? 0)} (EHF ${last?.ehf ?? 1}).`,
    "",
    table(
      ["class", "devices", "mean earned (DPN)"],
      DEVICE_CLASSES.map((c) => [c, num(r.devicesByClass[c]), num(r.meanEarnedDpnByClass[c], 4)]),
    ),
    "",
    "## Hours",
    "",
    table(
      [
        "hour",
        "online",
        "demand/capacity",
        "CU per DPN",
        "MSF",
        "EHF",
        "burn",
        "minted",
        "burned",
        "price",
        "oracle",
        "reserve",
      ],
      r.steps
        .filter((_, i) => i % every === 0)
        .map((s) => [
          String(s.hour),
          num(s.onlineDevices),
          (s.demandCu / Math.max(1, s.capacityCu)).toFixed(2),
          num(s.cuPerDpn),
          String(s.msf),
          String(s.ehf),
          `${s.burnLevel} ${s.burnBps}`,
          num(s.mintedDpn),
          num(s.burnedDpn),
          s.priceUsd.toFixed(4),
          s.publishedPriceUsd.toFixed(4),
          s.reserveAction,
        ]),
    ),
    "",
  ].join("\n");
}
