import { DpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { ANALYTICS_QUERY_INVALID, ANALYTICS_QUERY_REJECTED } from "./errors.ts";
import { parseQuerySpec } from "./querySpec.ts";
import { parseSqlQuery, toQuerySpec } from "./sqlQuery.ts";

function failure(sql: string): DpnError {
  try {
    parseSqlQuery(sql);
  } catch (error) {
    if (error instanceof DpnError) return error;
    throw error;
  }
  throw new Error(`accepted: ${sql}`);
}

describe("parseSqlQuery", () => {
  it("turns a whitelisted SELECT into the same spec as the structured form", () => {
    const spec = parseSqlQuery(
      `select origin, COUNT(*), sum(delay) AS total, avg("distance") mean, min(date), max(delay)
       FROM fragment WHERE distance >= 500 AND origin <> 'JFK' AND delay > -15.5 AND flag = true
       GROUP BY origin`,
    );
    expect(spec).toEqual(
      parseQuerySpec({
        select: [
          { fn: "count" },
          { fn: "sum", column: "delay", as: "total" },
          { fn: "avg", column: "distance", as: "mean" },
          { fn: "min", column: "date" },
          { fn: "max", column: "delay" },
        ],
        groupBy: ["origin"],
        where: [
          { column: "distance", op: ">=", value: 500 },
          { column: "origin", op: "!=", value: "JFK" },
          { column: "delay", op: ">", value: -15.5 },
          { column: "flag", op: "=", value: true },
        ],
      }),
    );
  });

  it("reads doubled quotes inside strings and quoted identifiers as plain characters", () => {
    const spec = parseSqlQuery(
      `SELECT count(*) FROM fragment WHERE "we""ird" = 'it''s; DROP TABLE x --'`,
    );
    expect(spec.where).toEqual([{ column: 'we"ird', op: "=", value: "it's; DROP TABLE x --" }]);
  });

  it.each([
    ["COPY (SELECT 1) TO '/tmp/x.csv'", "statement"],
    ["CREATE TABLE t AS SELECT 1", "statement"],
    ["INSERT INTO fragment VALUES (1)", "statement"],
    ["UPDATE fragment SET delay = 0", "statement"],
    ["DELETE FROM fragment", "statement"],
    ["DROP VIEW fragment", "statement"],
    ["PRAGMA database_list", "statement"],
    ["ATTACH '/tmp/other.db' AS other", "statement"],
    ["INSTALL httpfs", "statement"],
    ["LOAD httpfs", "statement"],
    ["SET enable_external_access = true", "statement"],
    ["WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT count(*) FROM x", "statement"],
    ["SELECT count(*) FROM fragment; SELECT 1", "semicolon"],
    ["SELECT count(*) FROM fragment;", "semicolon"],
    ["SELECT count(*) FROM fragment -- hi", "comment"],
    ["SELECT count(*) /* x */ FROM fragment", "comment"],
    ["SELECT count(*) FROM read_csv('/etc/passwd')", "reads-files"],
    ["SELECT count(*) FROM read_csv_auto('/etc/passwd')", "reads-files"],
    ["SELECT count(*) FROM read_parquet('/data/*.parquet')", "reads-files"],
    ["SELECT count(*) FROM '/etc/passwd'", "reads-files"],
    ["SELECT count(*) FROM glob('/etc/*')", "reads-files"],
    ["SELECT max(read_text('/etc/passwd')) FROM fragment", "reads-files"],
    ["SELECT count(*) FROM fragment WHERE origin = read_text('/etc/hostname')", "reads-files"],
    ["SELECT count(*) FROM other_table", "table"],
    ["SELECT count(*) FROM main.fragment", "table"],
    ["SELECT count(*) FROM fragment.x", "table"],
    ["SELECT count(*) FROM (SELECT * FROM fragment)", "subquery"],
    ["SELECT count(*) FROM fragment UNION SELECT count(*) FROM fragment", "statement"],
    ["SELECT count(*) FROM fragment JOIN fragment USING (origin)", "statement"],
    ["SELECT current_setting('threads') FROM fragment", "function"],
    ["SELECT getenv('HOME') FROM fragment", "function"],
    ["SELECT median(delay) FROM fragment", "function"],
    ['SELECT "read_csv"(delay) FROM fragment', "function"],
    ["SELECT count(DISTINCT origin) FROM fragment", "not-decomposable"],
    ["SELECT count(*) FROM fragment WHERE delay > $1", "syntax"],
    ["SELECT count(*) FROM fragment WHERE delay > ?", "syntax"],
    ["SELECT count(*) FROM fragment WHERE origin = $$x$$", "syntax"],
  ])("rejects %s (%s) with ANALYTICS_QUERY_REJECTED", (sql, reason) => {
    const error = failure(sql);
    expect(error.code).toBe(ANALYTICS_QUERY_REJECTED);
    expect(error.details.reason).toBe(reason);
    expect(error.hint).toMatch(/fragment/);
  });

  it.each([
    "SELECT * FROM fragment",
    "SELECT origin FROM fragment",
    "SELECT origin, count(*) FROM fragment",
    "SELECT count(*) FROM fragment ORDER BY 1",
    "SELECT count(*) FROM fragment LIMIT 1",
    "SELECT count(*) FROM fragment GROUP BY origin HAVING count(*) > 1",
    "SELECT count(*) FROM fragment WHERE a = 1 OR b = 2",
    "SELECT count(*) FROM fragment WHERE (a = 1)",
    "SELECT count(*) FROM fragment WHERE a = NULL",
    "SELECT count(*) FROM fragment WHERE a = 'open",
    "SELECT sum(*) FROM fragment",
    "SELECT sum() FROM fragment",
    "SELECT count(*), count(*) FROM fragment",
    "SELECT DISTINCT count(*) FROM fragment",
    "SELECT count(*) FROM fragment f",
    "SELECT count(*) FROM",
    "SELECT count(*) FROM fragment WHERE a = 1e999",
    "SELECT count(*) FROM fragment WHERE a :: int = 1",
    "",
    "x".repeat(20_000),
  ])("refuses malformed %s with ANALYTICS_QUERY_INVALID", (sql) => {
    expect(failure(sql).code).toBe(ANALYTICS_QUERY_INVALID);
  });

  it("toQuerySpec accepts either form", () => {
    expect(toQuerySpec("SELECT count(*) FROM fragment")).toEqual({ select: [{ fn: "count" }] });
    expect(toQuerySpec({ select: [{ fn: "count" }] })).toEqual({ select: [{ fn: "count" }] });
  });
});
