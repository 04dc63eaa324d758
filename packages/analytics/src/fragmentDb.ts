import { statSync } from "node:fs";
import { extname, isAbsolute, normalize } from "node:path";
import { DpnError } from "@dpn/protocol";
import { type DuckDBConnection, DuckDBInstance, type DuckDBResultReader } from "@duckdb/node-api";
import { quoteString } from "./compile.ts";
import { ANALYTICS_EXECUTION_FAILED, ANALYTICS_FRAGMENT_INVALID } from "./errors.ts";

/**
 * One fragment file exposed to DuckDB as the view `fragment`, in an in-memory database that can
 * read nothing else. Defence in depth under query validation: even SQL that validation would
 * refuse cannot reach another file here, because after the view is created the database is locked:
 *
 *   allowed_paths = [the fragment]   the only file DuckDB may open from now on
 *   enable_external_access = false   no other file, no COPY … TO, no ATTACH, no INSTALL/LOAD
 *   lock_configuration = true        no SET can undo the above
 *
 * and extension auto-install/auto-load are off from the start, so nothing is ever downloaded.
 */

export type FragmentFormat = "parquet" | "csv";

export interface FragmentRef {
  /** Absolute path to a .parquet or .csv file. */
  readonly path: string;
  /** Defaults to the file's extension. */
  readonly format?: FragmentFormat;
}

export interface FragmentDbOptions {
  /**
   * DuckDB threads for this fragment (default 1). One thread makes float sums reproducible: with
   * several, rows are summed in a schedule-dependent order and replicas' digests could differ.
   * A device runs several fragments in parallel instead, one per worker thread.
   */
  readonly threads?: number;
  /** DuckDB memory_limit, e.g. "512MB" (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string;
}

/** Largest fragment a device opens: a light-layer task, bounded so one fragment cannot swamp a phone. */
export const MAX_FRAGMENT_BYTES = 2 * 1024 ** 3;
/** More threads than this for one fragment only contend with the device's other work. */
export const MAX_FRAGMENT_THREADS = 16;

export interface FragmentDb {
  readonly path: string;
  readonly format: FragmentFormat;
  /** Runs SQL on the locked database. Callers pass compiled SQL; the lockdown holds regardless. */
  run(sql: string): Promise<DuckDBResultReader>;
  close(): void;
}

function fragmentInvalid(message: string, hint: string, path: unknown): DpnError {
  return new DpnError(ANALYTICS_FRAGMENT_INVALID, message, {
    hint,
    details: { path: String(path) },
  });
}

/** Checks a fragment reference without touching DuckDB; returns its normalised path and format. */
export function checkFragmentRef(ref: FragmentRef): { path: string; format: FragmentFormat } {
  const { path } = ref;
  if (typeof path !== "string" || path.length === 0 || path.length > 4096 || !isAbsolute(path)) {
    throw fragmentInvalid(
      "A fragment path must be an absolute file path.",
      "Pass the absolute path of the .parquet or .csv file the device holds.",
      path,
    );
  }
  // DuckDB's readers expand globs and open URLs; a fragment is exactly one local file.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  if (/[*?[\]{}\u0000-\u001f]/.test(path) || path.includes("://")) {
    throw fragmentInvalid(
      "A fragment path may not contain glob characters, control characters or a URL scheme.",
      "Rename the file; one task reads exactly one local file.",
      path,
    );
  }
  const extension = extname(path).toLowerCase();
  const format =
    ref.format ?? (extension === ".parquet" ? "parquet" : extension === ".csv" ? "csv" : undefined);
  if (format !== "parquet" && format !== "csv") {
    throw fragmentInvalid(
      `Cannot tell the format of ${path}.`,
      'Use a .parquet or .csv file, or pass format: "parquet" | "csv".',
      path,
    );
  }
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error("not a regular file");
    size = stat.size;
  } catch (cause) {
    throw new DpnError(ANALYTICS_FRAGMENT_INVALID, `Fragment ${path} is not a readable file.`, {
      hint: "Check that the task's fragment was stored on this device.",
      details: { path },
      cause,
    });
  }
  if (size > MAX_FRAGMENT_BYTES) {
    throw fragmentInvalid(
      `Fragment ${path} is ${size} bytes, over the ${MAX_FRAGMENT_BYTES}-byte limit.`,
      "Split the data set into smaller fragments.",
      path,
    );
  }
  return { path: normalize(path), format };
}

export function executionFailed(error: unknown, sql: string): DpnError {
  const message = error instanceof Error ? error.message : String(error);
  return new DpnError(ANALYTICS_EXECUTION_FAILED, `DuckDB refused the query: ${message}`, {
    hint: "Check that literals match the column types (numbers for numeric columns, text for text).",
    details: { sql },
    cause: error,
  });
}

async function setting(connection: DuckDBConnection, name: string): Promise<string> {
  const reader = await connection.runAndReadAll(
    `SELECT CAST(current_setting(${quoteString(name)}) AS VARCHAR)`,
  );
  return String(reader.getRows()[0]?.[0]);
}

/** Opens the fragment's locked database. Close it when done (it holds native memory). */
export async function openFragmentDb(
  ref: FragmentRef,
  options: FragmentDbOptions = {},
): Promise<FragmentDb> {
  const { path, format } = checkFragmentRef(ref);
  const threads = options.threads ?? 1;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > MAX_FRAGMENT_THREADS) {
    throw new DpnError(
      ANALYTICS_FRAGMENT_INVALID,
      `threads must be an integer in [1, ${MAX_FRAGMENT_THREADS}].`,
    );
  }
  const config: Record<string, string> = {
    threads: String(threads),
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    allow_community_extensions: "false",
  };
  if (options.memoryLimit !== undefined) {
    if (!/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(options.memoryLimit)) {
      throw new DpnError(ANALYTICS_FRAGMENT_INVALID, "memoryLimit must look like 512MB or 2GiB.");
    }
    config.memory_limit = options.memoryLimit;
  }
  const instance = await DuckDBInstance.create(":memory:", config);
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    const reader =
      format === "parquet"
        ? `read_parquet(${quoteString(path)})`
        : `read_csv(${quoteString(path)}, auto_detect = true, header = true)`;
    try {
      await connection.run(`CREATE VIEW fragment AS SELECT * FROM ${reader}`);
    } catch (cause) {
      throw new DpnError(ANALYTICS_FRAGMENT_INVALID, `DuckDB cannot read ${path} as ${format}.`, {
        hint: "Check the file is a complete Parquet or CSV file with a header row.",
        details: { path, format, message: cause instanceof Error ? cause.message : String(cause) },
        cause,
      });
    }
    await connection.run(`SET allowed_paths = [${quoteString(path)}]`);
    await connection.run("SET enable_external_access = false");
    await connection.run("SET lock_configuration = true");
    // The lockdown is the security boundary: if DuckDB ever ignored it, stop rather than run.
    if (
      (await setting(connection, "enable_external_access")) !== "false" ||
      (await setting(connection, "lock_configuration")) !== "true"
    ) {
      throw new Error("DuckDB did not apply the fragment lockdown");
    }
  } catch (error) {
    connection?.closeSync();
    instance.closeSync();
    throw error;
  }
  const open = connection;
  return {
    path,
    format,
    run: (sql) => open.runAndReadAll(sql),
    close() {
      open.closeSync();
      instance.closeSync();
    },
  };
}
