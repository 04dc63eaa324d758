import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decideJobQuorum } from "@dpn/protocol";
import { DuckDBInstance } from "@duckdb/node-api";
import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { compileReferenceQuery, quoteString } from "./compile.ts";
import { AIRPORTS_CSV, FLIGHTS_3M_PARQUET } from "./exampleData.ts";
import { type FragmentResult, runFragmentQuery } from "./execute.ts";
import { mergePartials } from "./merge.ts";
import type { Partial } from "./partial.ts";
import { splitDataset } from "./split.ts";
import { parseSqlQuery } from "./sqlQuery.ts";
import { referenceRows, tempDir } from "./testing.ts";

const ROWS = 40_000;
const query = parseSqlQuery(
  `SELECT origin, count(*), sum(delay), avg(distance), min(delay), max(date)
   FROM fragment WHERE distance >= 300 GROUP BY origin`,
);

describe("an sql-analytics job on vega-datasets flights", () => {
  it("splits deterministically and merges to DuckDB's answer on the same rows", async () => {
    const a = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: tempDir(),
      fragments: 4,
      rows: ROWS,
    });
    const b = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: tempDir(),
      fragments: 4,
      rows: ROWS,
    });
    expect(a.rows).toEqual([10_000, 10_000, 10_000, 10_000]);
    for (let i = 0; i < 4; i++) {
      expect(sha256Hex(readFileSync(a.paths[i] as string, "latin1"))).toBe(
        sha256Hex(readFileSync(b.paths[i] as string, "latin1")),
      );
    }
    const partials: Partial[] = [];
    for (const path of a.paths) partials.push((await runFragmentQuery({ path }, query)).partial);
    const merged = mergePartials(query, partials);

    // Reference: DuckDB alone over the first ROWS rows of the source file.
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    const source = `(SELECT * FROM read_parquet(${quoteString(FLIGHTS_3M_PARQUET)}) LIMIT ${ROWS})`;
    const reader = await connection.runAndReadAll(
      `${compileReferenceQuery(query, source)} ORDER BY 1`,
    );
    const reference = reader.getRowsJson();
    connection.closeSync();
    instance.closeSync();
    expect(merged.rows.length).toBe(reference.length);
    merged.rows.forEach((row, r) => {
      const ref = reference[r] as (string | number)[];
      expect(row[0]).toEqual({ str: ref[0] });
      expect(row[1]).toEqual({ int: ref[1] });
      expect(row[2]).toEqual({ int: ref[2] });
      expect((row[3] as { float: number }).float).toBeCloseTo(ref[3] as number, 9);
      expect(row[4]).toEqual({ int: ref[4] });
    });
    // The union of the fragment files, read by DuckDB as one, agrees too.
    expect(canonicalJson(merged.rows.map((r) => r.slice(0, 3)))).toBe(
      canonicalJson((await referenceRows(query, a.paths)).map((r) => r.slice(0, 3))),
    );
  });

  it("outvotes a replica that lies about its partial and reports it for penalty", async () => {
    const { paths } = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: tempDir(),
      fragments: 2,
      rows: 10_000,
    });
    const replicate = async (path: string, lie: boolean): Promise<FragmentResult> => {
      const honest = await runFragmentQuery({ path }, query);
      if (!lie) return honest;
      // The liar inflates one count (say, to be paid for more work) and signs its own digest.
      const [first, ...rest] = honest.partial.groups;
      if (first === undefined) throw new Error("the fragment has no groups");
      const forged: Partial = {
        ...honest.partial,
        groups: [{ ...first, values: [{ count: "999999" }, ...first.values.slice(1)] }, ...rest],
      };
      const json = canonicalJson(forged);
      return { partial: forged, json, digest: sha256Hex(json) };
    };
    const devices = { alice: 0.6, bob: 0.7, mallory: 0.95 };
    const results = new Map<string, Map<string, FragmentResult>>();
    for (const [f, path] of paths.entries()) {
      const byDevice = new Map<string, FragmentResult>();
      for (const device of Object.keys(devices)) {
        byDevice.set(device, await replicate(path, device === "mallory" && f === 1));
      }
      results.set(`f${f}`, byDevice);
    }
    const job = decideJobQuorum(
      [...results.entries()].map(([fragmentId, byDevice]) => ({
        fragmentId,
        replicas: [...byDevice.entries()].map(([deviceId, r]) => ({ deviceId, digest: r.digest })),
      })),
      devices,
    );
    expect(job.complete).toBe(true);
    expect(job.penalise).toEqual(["mallory"]);
    expect(job.decisions.get("f1")).toMatchObject({
      status: "accepted",
      agreeing: ["alice", "bob"],
      outvoted: ["mallory"],
    });
    const accepted = [...results.entries()].map(([fragmentId, byDevice]) => {
      const decision = job.decisions.get(fragmentId);
      const winner = [...byDevice.values()].find(
        (r) => decision?.status === "accepted" && r.digest === decision.digest,
      );
      return winner?.partial;
    });
    const merged = mergePartials(query, accepted);
    expect(merged.rows.every((row) => (row[1] as { int: string }).int !== "999999")).toBe(true);
  });

  it("splits CSV round-robin into CSV fragments that devices can query", async () => {
    const { paths, rows } = await splitDataset({
      source: AIRPORTS_CSV,
      outDir: tempDir(),
      fragments: 3,
      format: "csv",
      strategy: "round-robin",
      columns: ["state", "latitude"],
    });
    expect(paths.every((p) => p.endsWith(".csv"))).toBe(true);
    const spec = parseSqlQuery("SELECT count(*), max(latitude) FROM fragment WHERE state = 'CA'");
    const merged = mergePartials(
      spec,
      await Promise.all(
        paths.map(async (path) => (await runFragmentQuery({ path }, spec)).partial),
      ),
    );
    const reference = await referenceRows(spec, [AIRPORTS_CSV]);
    expect(merged.rows).toEqual(reference);
    expect(rows.reduce((s, n) => s + n, 0)).toBeGreaterThan(3000);
    expect(join(paths[0] as string)).toMatch(/fragment-0000\.csv$/);
  });
});
