import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Benchmark, formatTable, writeReport } from "./harness.ts";

/**
 * `npm run bench [-- name ...] [--quick]`: runs the named benchmarks (all by default), prints a
 * table for each and writes bench/results/<name>.json.
 */
const BENCHMARKS: Record<string, () => Promise<{ default: Benchmark }>> = {
  protocol: () => import("./protocol.ts"),
  ledger: () => import("./ledger.ts"),
  epochs: () => import("./epochs.ts"),
  signatures: () => import("./signatures.ts"),
  dispatch: () => import("./dispatch.ts"),
  channel: () => import("./channel.ts"),
  prove: () => import("./prove.ts"),
  sim: () => import("./sim.ts"),
  analytics: () => import("./analytics.ts"),
  fl: () => import("./fl.ts"),
  render: () => import("./render.ts"),
  reserveInterest: () => import("./reserveInterest.ts"),
  oracle: () => import("./oracle.ts"),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const names = args.filter((arg) => !arg.startsWith("--"));
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(
      `Unknown benchmark: ${unknown.join(", ")}. Available: ${Object.keys(BENCHMARKS).join(", ")}.`,
    );
    process.exitCode = 2;
    return;
  }
  const resultsDir = join(fileURLToPath(new URL(".", import.meta.url)), "results");
  for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
    const load = BENCHMARKS[name];
    if (load === undefined) continue;
    const bench = (await load()).default;
    const report = await bench({ quick });
    console.log(`\n## ${report.name}: ${report.question}${quick ? " (quick)" : ""}\n`);
    console.log(formatTable(report.rows));
    for (const note of report.notes ?? []) console.log(`- ${note}`);
    console.log(`\nwritten: ${writeReport(report, resultsDir)}`);
  }
}

await main();
