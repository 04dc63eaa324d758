import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnError } from "@dpn/protocol";
import { DuckDBInstance } from "@duckdb/node-api";
import { type CanonicalValue, compareKeys } from "./canonical.ts";
import { compileReferenceQuery, quoteIdentifier, quoteString } from "./compile.ts";
import { toCanonicalValue } from "./execute.ts";
import type { QuerySpec } from "./querySpec.ts";

/** Test helpers (not exported from the package). */

/** The DpnError `fn` throws (sync or async); fails the test if it throws anything else or nothing. */
export async function errorOf(fn: () => unknown): Promise<DpnError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DpnError) return error;
    throw error;
  }
  throw new Error("expected a DpnError, nothing was thrown");
}

/** The code of the DpnError a synchronous `fn` throws, or undefined if it returns. */
export function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}

export function tempDir(prefix = "dpn-analytics-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestColumn {
  readonly name: string;
  /** A DuckDB type, e.g. BIGINT, DOUBLE, VARCHAR, DECIMAL(12,3), DATE. */
  readonly type: string;
}

export type TestCell = string | number | boolean | null;

function sqlLiteral(value: TestCell, type: string): string {
  if (value === null) return `CAST(NULL AS ${type})`;
  if (typeof value === "string") return `CAST(${quoteString(value)} AS ${type})`;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return `CAST(${quoteString(String(value))} AS ${type})`;
}

/** Writes rows to a .parquet or .csv file with DuckDB (an unlocked instance: setup only). */
export async function writeFragment(
  path: string,
  columns: readonly TestColumn[],
  rows: readonly (readonly TestCell[])[],
): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const definition = columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(", ");
    await connection.run(`CREATE TABLE t (${definition})`);
    for (let start = 0; start < rows.length; start += 500) {
      const values = rows
        .slice(start, start + 500)
        .map(
          (row) =>
            `(${row.map((v, i) => sqlLiteral(v, (columns[i] as TestColumn).type)).join(", ")})`,
        );
      await connection.run(`INSERT INTO t VALUES ${values.join(", ")}`);
    }
    const format = path.endsWith(".csv") ? "FORMAT csv, HEADER true" : "FORMAT parquet";
    await connection.run(
      `COPY (SELECT * FROM t ORDER BY rowid) TO ${quoteString(path)} (${format})`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The spec run as one ordinary query by DuckDB over the union of the files, rows sorted by key. */
export async function referenceRows(
  spec: QuerySpec,
  paths: readonly string[],
): Promise<CanonicalValue[][]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    const files = `[${paths.map(quoteString).join(", ")}]`;
    const source = paths.every((p) => p.endsWith(".csv"))
      ? `read_csv(${files}, auto_detect = true, header = true)`
      : `read_parquet(${files})`;
    const reader = await connection.runAndReadAll(compileReferenceQuery(spec, source));
    const types = reader.columnTypes();
    const keyCount = spec.groupBy?.length ?? 0;
    return reader
      .getRows()
      .map((row) => row.map((v, i) => toCanonicalValue(v, types[i] as (typeof types)[number])))
      .sort((a, b) => compareKeys(a.slice(0, keyCount), b.slice(0, keyCount)));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
