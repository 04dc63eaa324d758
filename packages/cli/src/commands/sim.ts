import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildCharts,
  type MonteCarloResult,
  type NetworkResult,
  type ReportChart,
  renderCharts,
  renderReport,
  runMonteCarlo,
  runNetwork,
} from "@dpn/sim";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";

/**
 * `dpn sim network|montecarlo`: the simulator, running the protocol core's own functions over a
 * simulated network and market (packages/sim). Reproducible for a seed.
 */
function integer(value: string): number {
  const n = Number(value);
  // Range checks are the simulator's (SIM_INVALID_OPTION, with a hint); only the type is checked here.
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

function toJson(result: unknown): string {
  return JSON.stringify(result, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/**
 * `--out <dir>`: <dir>/report.json (the result), <dir>/report.md (the Markdown report, linking
 * the charts by relative paths) and, unless --no-charts, <dir>/charts/<name>.svg and .png.
 */
async function writeReport(
  out: string | undefined,
  result: MonteCarloResult | NetworkResult,
  withCharts: boolean,
): Promise<void> {
  if (out === undefined) return;
  const started = performance.now();
  mkdirSync(out, { recursive: true });
  const charts: ReportChart[] = [];
  if (withCharts) {
    mkdirSync(join(out, "charts"), { recursive: true });
    for (const chart of await renderCharts(buildCharts(result))) {
      const svg = `charts/${chart.name}.svg`;
      const png = `charts/${chart.name}.png`;
      writeFileSync(join(out, svg), chart.svg);
      writeFileSync(join(out, png), chart.png);
      charts.push({ title: chart.title, svg, png });
    }
  }
  writeFileSync(join(out, "report.json"), `${toJson(result)}\n`);
  writeFileSync(join(out, "report.md"), renderReport(result, { charts }));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.error(
    `written: ${join(out, "report.json")}, ${join(out, "report.md")}` +
      (charts.length > 0 ? `, ${charts.length} charts in ${join(out, "charts")} (SVG, PNG)` : "") +
      ` in ${seconds} s`,
  );
}

export function simCommand(program: Command): void {
  const sim = program
    .command("sim")
    .description("simulate the network and the market with the protocol's own rules");
  sim
    .command("network")
    .description(
      "an agent-based network (devices by class and region, churn, demand, rewards, burning) for some hours",
    )
    .option("--devices <n>", "devices", integer, 100_000)
    .option("--hours <n>", "simulated hours", integer, 24)
    .option("--seed <seed>", "seed (same seed, same result)", "dpn-sim")
    .option("--churn <share>", "share of devices leaving per 30 days", "0.18")
    .option("--out <dir>", "write <dir>/report.json, report.md and charts/*.svg, *.png")
    .option("--no-charts", "with --out, write no charts")
    .option("--json", "print the result as JSON", false)
    .action(
      async (options: {
        devices: number;
        hours: number;
        seed: string;
        churn: string;
        out?: string;
        charts: boolean;
        json: boolean;
      }) => {
        const started = performance.now();
        const result = runNetwork({
          devices: options.devices,
          hours: options.hours,
          seed: options.seed,
          monthlyChurn: Number(options.churn),
        });
        await writeReport(options.out, result, options.charts);
        console.log(options.json ? toJson(result) : renderReport(result));
        console.error(`simulated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      },
    );
  sim
    .command("montecarlo")
    .description("Monte Carlo of extreme market paths, with and without each stabilising mechanism")
    .option("--iterations <n>", "paths in total, spread over the scenarios", integer, 9_000)
    .option("--seed <seed>", "seed (same seed, same result for any thread count)", "dpn-sim")
    .option("--threads <n>", "worker threads (default: up to 2)", integer)
    .option("--days <n>", "length of each path in days", integer, 30)
    .option("--out <dir>", "write <dir>/report.json, report.md and charts/*.svg, *.png")
    .option("--no-charts", "with --out, write no charts")
    .option("--json", "print the result as JSON", false)
    .action(
      async (options: {
        iterations: number;
        seed: string;
        threads?: number;
        days: number;
        out?: string;
        charts: boolean;
        json: boolean;
      }) => {
        const bar =
          process.stderr.isTTY && !options.json
            ? new SingleBar({
                format: "montecarlo [{bar}] {value}/{total} paths",
                stream: process.stderr,
              })
            : undefined;
        bar?.start(options.iterations, 0);
        const result = await runMonteCarlo(
          {
            iterations: options.iterations,
            seed: options.seed,
            days: options.days,
            ...(options.threads === undefined ? {} : { threads: options.threads }),
          },
          (progress) => bar?.update(progress.done),
        );
        bar?.stop();
        await writeReport(options.out, result, options.charts);
        console.log(options.json ? toJson(result) : renderReport(result));
      },
    );
}
