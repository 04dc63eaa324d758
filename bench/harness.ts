import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

/**
 * The shape every benchmark returns. A benchmark answers one question, measures ours and the
 * named peer in the same run, repeats each measurement and reports the median.
 */
export interface BenchRow {
  readonly [column: string]: string | number;
}

export interface BenchReport {
  readonly name: string;
  readonly question: string;
  readonly rows: readonly BenchRow[];
  readonly notes?: readonly string[];
}

export interface BenchOptions {
  /** Fewer and shorter repetitions: for a smoke run, not for quoting. */
  readonly quick: boolean;
}

export type Benchmark = (options: BenchOptions) => Promise<BenchReport>;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Runs `fn` `repeats` times and returns each run's result (for medians of several runs). */
export async function repeat<T>(
  repeats: number,
  fn: (run: number) => Promise<T> | T,
): Promise<T[]> {
  const results: T[] = [];
  for (let run = 0; run < repeats; run++) results.push(await fn(run));
  return results;
}

export function formatTable(rows: readonly BenchRow[]): string {
  const first = rows[0];
  if (first === undefined) return "(no rows)";
  const columns = Object.keys(first);
  const cell = (value: string | number | undefined): string =>
    typeof value === "number"
      ? value.toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 3 : 1 })
      : (value ?? "");
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  );
  const line = (values: string[]): string =>
    `| ${values.map((value, i) => value.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [
    line(columns),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map((row) => line(columns.map((column) => cell(row[column])))),
  ].join("\n");
}

export function writeReport(report: BenchReport, directory: string): string {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `${report.name}.json`);
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
  };
  writeFileSync(
    path,
    `${JSON.stringify({ ...report, machine, at: new Date().toISOString() }, null, 2)}\n`,
  );
  return path;
}
