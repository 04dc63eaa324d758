import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import {
  FLIGHTS_3M_PARQUET,
  mergePartials,
  parseSqlQuery,
  runFragmentQuery,
  splitDataset,
} from "@dpn/analytics";
import { costCu } from "@dpn/protocol";
import type { JobSubmit } from "@dpn/wire";
import { count, invalidOption, type JobSpecBuilder } from "./kind.ts";

const NEEDS_QUERY = [
  "An analytics job needs --query.",
  'For example --query "SELECT origin, count(*), avg(delay) FROM fragment GROUP BY origin".',
] as const;
const NEEDS_DATA = [
  "An analytics job needs --data or --example-data.",
  "Pass comma-separated .parquet or .csv files, or --example-data 4 for the bundled flights.",
] as const;

/**
 * An analytics job: the query is checked here with the same whitelist the node uses (so a bad
 * query fails before anything is uploaded), each data file is uploaded as one fragment and its
 * rows counted for the price. `--example-data n` splits the first 100,000 flights of the bundled
 * vega-datasets file into n Parquet fragments.
 */
export const sqlAnalyticsSpec: JobSpecBuilder<"sql-analytics"> = {
  type: "sql-analytics",
  precheck(o) {
    if (o.query === undefined) throw invalidOption(...NEEDS_QUERY);
    parseSqlQuery(o.query); // throws ANALYTICS_QUERY_* with the reason
    if (o.data === undefined && o.exampleData === undefined) throw invalidOption(...NEEDS_DATA);
  },
  async build(client, o) {
    if (o.query === undefined) throw invalidOption(...NEEDS_QUERY);
    parseSqlQuery(o.query); // throws ANALYTICS_QUERY_* before anything is uploaded
    let paths: readonly string[];
    if (o.exampleData !== undefined) {
      const fragments = count(o.exampleData, "--example-data", 4, 64);
      const split = await splitDataset({
        source: FLIGHTS_3M_PARQUET,
        outDir: mkdtempSync(join(tmpdir(), "dpn-flights-")),
        fragments,
        rows: 100_000,
      });
      paths = split.paths;
    } else if (o.data !== undefined) {
      paths = o.data
        .split(",")
        .filter((p) => p !== "")
        .map((p) => resolve(p));
    } else {
      throw invalidOption(...NEEDS_DATA);
    }
    const rowCount = parseSqlQuery("SELECT count(*) FROM fragment");
    const items = [];
    let cu = 0;
    for (const path of paths) {
      const format = extname(path).toLowerCase() === ".csv" ? "csv" : "parquet";
      const counted = mergePartials(rowCount, [
        (await runFragmentQuery({ path, format }, rowCount)).partial,
      ]);
      const cell = counted.rows[0]?.[0];
      const rows = Number(
        cell !== null && typeof cell === "object" && "int" in cell ? cell.int : 0,
      );
      if (rows < 1)
        throw invalidOption(`${path} has no rows.`, "Give data files with at least one row.");
      items.push({ sha256: await client.uploadArtifact(readFileSync(path)), format, rows });
      cu += costCu({ type: "sql-analytics", rows, columns: 4 });
    }
    const epsilon = o.epsilon === undefined ? undefined : Number(o.epsilon);
    if (epsilon !== undefined && !(epsilon > 0 && epsilon <= 100)) {
      throw invalidOption(
        "--epsilon must be a number in (0, 100].",
        "Smaller ε adds more noise; 1 is a common choice.",
      );
    }
    const spec = {
      type: "sql-analytics",
      query: o.query,
      items,
      ...(epsilon === undefined ? {} : { epsilon }),
    } as JobSubmit["spec"];
    // Each fragment runs twice (the quorum): the default budget covers both.
    return { spec, cu: cu * 2 };
  },
};
