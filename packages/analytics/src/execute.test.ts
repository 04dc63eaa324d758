import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "./canonical.ts";
import {
  ANALYTICS_COLUMN_INVALID,
  ANALYTICS_EXECUTION_FAILED,
  ANALYTICS_QUERY_INVALID,
  ANALYTICS_QUERY_REJECTED,
  ANALYTICS_TOO_MANY_GROUPS,
} from "./errors.ts";
import { runFragmentQuery } from "./execute.ts";
import { MAX_PARTIAL_GROUPS, queryDigest } from "./partial.ts";
import { parseQuerySpec } from "./querySpec.ts";
import { errorOf, type TestColumn, tempDir, writeFragment } from "./testing.ts";

const dir = tempDir();
const mixed = join(dir, "mixed.parquet");
const empty = join(dir, "empty.parquet");
const csv = join(dir, "mixed.csv");
const weird = join(dir, "weird.parquet");

const columns: TestColumn[] = [
  { name: "g", type: "VARCHAR" },
  { name: "x", type: "BIGINT" },
  { name: "y", type: "DOUBLE" },
  { name: "d", type: "DECIMAL(12,3)" },
  { name: "day", type: "DATE" },
  { name: "b", type: "BOOLEAN" },
];

beforeAll(async () => {
  const rows = [
    ["b", 5, 0.5, "1.250", "2001-01-02", true],
    ["a", -3, 1.25, "-0.500", "2001-01-01", false],
    [null, 7, null, null, null, null],
    ["b", null, 2, "2.000", "2001-03-01", false],
  ] as const;
  await writeFragment(
    mixed,
    columns,
    rows.map((r) => [...r]),
  );
  await writeFragment(empty, columns, []);
  await writeFragment(
    csv,
    [
      { name: "g", type: "VARCHAR" },
      { name: "x", type: "BIGINT" },
    ],
    [
      ["b", 1],
      ["a", 2],
      ["b", 3],
    ],
  );
  await writeFragment(weird, [{ name: `we"ird; DROP TABLE x --`, type: "BIGINT" }], [[1], [2]]);
});

const everything = parseQuerySpec({
  select: [
    { fn: "count" },
    { fn: "count", column: "x" },
    { fn: "sum", column: "x" },
    { fn: "sum", column: "y" },
    { fn: "sum", column: "d" },
    { fn: "avg", column: "x" },
    { fn: "min", column: "day" },
    { fn: "max", column: "b" },
  ],
  groupBy: ["g"],
});

describe("runFragmentQuery", () => {
  it("returns canonical partials: tagged values, exact integer and decimal sums, groups sorted with NULL first", async () => {
    const result = await runFragmentQuery({ path: mixed }, everything);
    expect(result.partial.groups).toEqual([
      {
        key: [null],
        values: [
          { count: "1" },
          { count: "1" },
          { sum: { int: "7" } },
          { sum: null },
          { sum: null },
          { sum: { int: "7" }, count: "1" },
          { min: null },
          { max: null },
        ],
      },
      {
        key: [{ str: "a" }],
        values: [
          { count: "1" },
          { count: "1" },
          { sum: { int: "-3" } },
          { sum: { float: 1.25 } },
          { sum: { dec: "-0.500" } },
          { sum: { int: "-3" }, count: "1" },
          { min: { date: "11323" } },
          { max: { bool: false } },
        ],
      },
      {
        key: [{ str: "b" }],
        values: [
          { count: "2" },
          { count: "1" },
          { sum: { int: "5" } },
          { sum: { float: 2.5 } },
          { sum: { dec: "3.250" } },
          { sum: { int: "5" }, count: "1" },
          { min: { date: "11324" } },
          { max: { bool: true } },
        ],
      },
    ]);
    expect(result.partial.query).toBe(queryDigest(everything));
    expect(result.partial.columns).toEqual([
      { name: "g", type: "VARCHAR" },
      { name: "x", type: "BIGINT" },
      { name: "y", type: "DOUBLE" },
      { name: "d", type: "DECIMAL(12,3)" },
      { name: "day", type: "DATE" },
      { name: "b", type: "BOOLEAN" },
    ]);
    expect(result.json.startsWith('{"columns":[{"name":"g","type":"VARCHAR"}')).toBe(true);
    expect(result.json).not.toMatch(/\s/);
    expect(result.digest).toBe(sha256Hex(result.json));
  });

  it("is byte-for-byte reproducible, whether the query comes as a spec or as SQL", async () => {
    const spec = { select: [{ fn: "sum", column: "y" }, { fn: "count" }], groupBy: ["g"] };
    const a = await runFragmentQuery({ path: mixed }, spec);
    const b = await runFragmentQuery(
      { path: mixed },
      "SELECT g, sum(y), count(*) FROM fragment GROUP BY g",
    );
    expect(b.json).toBe(a.json);
    expect(b.digest).toBe(a.digest);
  });

  it("returns one zero group for an empty fragment without GROUP BY, none with it", async () => {
    const flat = await runFragmentQuery(
      { path: empty },
      {
        select: [{ fn: "count" }, { fn: "sum", column: "x" }, { fn: "avg", column: "y" }],
      },
    );
    expect(flat.partial.groups).toEqual([
      { key: [], values: [{ count: "0" }, { sum: null }, { sum: null, count: "0" }] },
    ]);
    const grouped = await runFragmentQuery({ path: empty }, everything);
    expect(grouped.partial.groups).toEqual([]);
  });

  it("applies predicates and clamp bounds", async () => {
    const result = await runFragmentQuery(
      { path: mixed },
      {
        select: [{ fn: "sum", column: "x" }, { fn: "count" }],
        where: [
          { column: "g", op: "!=", value: "zzz" },
          { column: "y", op: ">=", value: 0.5 },
        ],
        clamp: [{ column: "x", min: 0, max: 4 }],
      },
    );
    // Rows passing y >= 0.5: (b, x 5 → 4), (a, x -3 → 0) and (b, x NULL); the y NULL row fails.
    expect(result.partial.groups).toEqual([
      { key: [], values: [{ sum: { int: "4" } }, { count: "3" }] },
    ]);
  });

  it("reads CSV fragments", async () => {
    const result = await runFragmentQuery(
      { path: csv },
      "SELECT g, sum(x) FROM fragment GROUP BY g",
    );
    expect(result.partial.groups).toEqual([
      { key: [{ str: "a" }], values: [{ sum: { int: "2" } }] },
      { key: [{ str: "b" }], values: [{ sum: { int: "4" } }] },
    ]);
  });

  it("treats a hostile column name as a name, never as SQL", async () => {
    const ok = await runFragmentQuery(
      { path: weird },
      {
        select: [{ fn: "sum", column: `we"ird; DROP TABLE x --` }],
      },
    );
    expect(ok.partial.groups[0]?.values).toEqual([{ sum: { int: "3" } }]);
    const hostile = await errorOf(() =>
      runFragmentQuery(
        { path: weird },
        {
          select: [{ fn: "sum", column: `x") FROM read_csv('/etc/passwd') --` }],
        },
      ),
    );
    expect(hostile.code).toBe(ANALYTICS_COLUMN_INVALID);
  });

  it.each([
    [{ select: [{ fn: "sum", column: "nope" }] }, ANALYTICS_COLUMN_INVALID],
    [{ select: [{ fn: "sum", column: "X" }] }, ANALYTICS_COLUMN_INVALID],
    [{ select: [{ fn: "sum", column: "g" }] }, ANALYTICS_COLUMN_INVALID],
    [{ select: [{ fn: "avg", column: "day" }] }, ANALYTICS_COLUMN_INVALID],
    [
      { select: [{ fn: "count" }], where: [{ column: "x", op: "=", value: "abc" }] },
      ANALYTICS_EXECUTION_FAILED,
    ],
    [{ select: [{ fn: "count" }], limit: 1 }, ANALYTICS_QUERY_INVALID],
    ["SELECT count(*) FROM fragment; COPY fragment TO '/tmp/x'", ANALYTICS_QUERY_REJECTED],
    ["INSERT INTO fragment VALUES (1)", ANALYTICS_QUERY_REJECTED],
    ["CREATE TABLE t AS SELECT 1", ANALYTICS_QUERY_REJECTED],
  ])("refuses %j with %s", async (query, code) => {
    expect((await errorOf(() => runFragmentQuery({ path: mixed }, query))).code).toBe(code);
  });

  it("refuses a fragment with more groups than a partial may carry", async () => {
    const path = join(dir, "many.parquet");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT range AS k FROM range(${MAX_PARTIAL_GROUPS + 1})) TO '${path}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    const error = await errorOf(() =>
      runFragmentQuery({ path }, { select: [{ fn: "count" }], groupBy: ["k"] }),
    );
    expect(error.code).toBe(ANALYTICS_TOO_MANY_GROUPS);
  });
});
