import { mkdirSync } from "node:fs";
import { extname, isAbsolute, join } from "node:path";
import { DpnError } from "@dpn/protocol";
import { DuckDBInstance } from "@duckdb/node-api";
import { quoteIdentifier, quoteString } from "./compile.ts";
import { ANALYTICS_SPLIT_INVALID } from "./errors.ts";
import type { FragmentFormat } from "./fragmentDb.ts";

/**
 * Setup code, not device code: cuts a data set into N fragment files with DuckDB COPY, the way a
 * requester would before submitting a job. Deterministic: the source is loaded in file order
 * (DuckDB preserves insertion order), rows are numbered by that order, and fragment i gets rows
 * [i·n/N, (i+1)·n/N) ("contiguous") or rows with number ≡ i mod N ("round-robin"), written in
 * that order.
 */

/** Fragments one split may write. */
export const MAX_SPLIT_FRAGMENTS = 1024;

export interface SplitOptions {
  /** Absolute path of a .parquet, .csv or .json source file. */
  readonly source: string;
  /** Directory for the fragments (created if missing). */
  readonly outDir: string;
  readonly fragments: number;
  /** Use only the first `rows` rows of the source. */
  readonly rows?: number;
  /** Keep only these columns. */
  readonly columns?: readonly string[];
  /** Output format (default parquet). */
  readonly format?: FragmentFormat;
  readonly strategy?: "contiguous" | "round-robin";
}

export interface SplitResult {
  readonly paths: readonly string[];
  /** Rows in each fragment. */
  readonly rows: readonly number[];
}

function invalid(message: string): DpnError {
  return new DpnError(ANALYTICS_SPLIT_INVALID, message, {
    hint: "Give an absolute source path (.parquet, .csv, .json), an output directory and 1 to 1024 fragments.",
  });
}

function reader(source: string): string {
  const extension = extname(source).toLowerCase();
  if (extension === ".parquet") return `read_parquet(${quoteString(source)})`;
  if (extension === ".csv")
    return `read_csv(${quoteString(source)}, auto_detect = true, header = true)`;
  if (extension === ".json") return `read_json_auto(${quoteString(source)})`;
  throw invalid(`Cannot read ${source}: unknown extension ${extension}.`);
}

export async function splitDataset(options: SplitOptions): Promise<SplitResult> {
  const { source, outDir, fragments } = options;
  const format = options.format ?? "parquet";
  const strategy = options.strategy ?? "contiguous";
  if (!isAbsolute(source) || !isAbsolute(outDir)) throw invalid("Paths must be absolute.");
  if (!Number.isSafeInteger(fragments) || fragments < 1 || fragments > MAX_SPLIT_FRAGMENTS) {
    throw invalid(`fragments must be an integer in [1, ${MAX_SPLIT_FRAGMENTS}].`);
  }
  if (options.rows !== undefined && (!Number.isSafeInteger(options.rows) || options.rows < 0)) {
    throw invalid("rows must be a non-negative integer.");
  }
  const projection =
    options.columns === undefined ? "*" : options.columns.map(quoteIdentifier).join(", ");
  const limit = options.rows === undefined ? "" : ` LIMIT ${options.rows}`;
  mkdirSync(outDir, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:", {
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE TABLE src AS SELECT ${projection} FROM ${reader(source)}${limit}`);
    const total = Number(
      (await connection.runAndReadAll("SELECT count(*) FROM src")).getRows()[0]?.[0] ?? 0,
    );
    const paths: string[] = [];
    const rows: number[] = [];
    for (let i = 0; i < fragments; i++) {
      const path = join(outDir, `fragment-${String(i).padStart(4, "0")}.${format}`);
      const from = Math.floor((i * total) / fragments);
      const to = Math.floor(((i + 1) * total) / fragments);
      const where =
        strategy === "contiguous"
          ? `rowid >= ${from} AND rowid < ${to}`
          : `rowid % ${fragments} = ${i}`;
      const options = format === "parquet" ? "FORMAT parquet" : "FORMAT csv, HEADER true";
      const reader = await connection.runAndReadAll(
        `COPY (SELECT * FROM src WHERE ${where} ORDER BY rowid) TO ${quoteString(path)} (${options})`,
      );
      paths.push(path);
      rows.push(Number(reader.getRows()[0]?.[0] ?? 0));
    }
    return { paths, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
