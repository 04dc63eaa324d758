import { describe, expect, it } from "vitest";
import { compilePartialQuery, compileReferenceQuery, quoteIdentifier } from "./compile.ts";
import { ANALYTICS_QUERY_INVALID } from "./errors.ts";
import { MAX_SELECT_ITEMS, outputName, parseQuerySpec } from "./querySpec.ts";
import { errorCode } from "./testing.ts";

describe("parseQuerySpec", () => {
  it("accepts a restricted aggregate query and freezes it", () => {
    const spec = parseQuerySpec({
      select: [{ fn: "count" }, { fn: "avg", column: "delay", as: "mean delay" }],
      groupBy: ["origin"],
      where: [{ column: "distance", op: ">", value: 100 }],
      clamp: [{ column: "delay", min: -60, max: 600 }],
    });
    expect(spec.select.map(outputName)).toEqual(["count(*)", "mean delay"]);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.select[0])).toBe(true);
  });

  it.each([
    ["not an object", "SELECT 1; DROP"],
    ["null", null],
    ["no select", {}],
    ["empty select", { select: [] }],
    ["unknown field", { select: [{ fn: "count" }], limit: 10 }],
    ["unknown item field", { select: [{ fn: "count", distinct: true }] }],
    ["unknown aggregate", { select: [{ fn: "median", column: "x" }] }],
    ["aggregate as a function name", { select: [{ fn: "read_csv", column: "x" }] }],
    ["sum without column", { select: [{ fn: "sum" }] }],
    ["empty column", { select: [{ fn: "sum", column: "" }] }],
    ["column with NUL", { select: [{ fn: "sum", column: "a\u0000b" }] }],
    ["column with newline", { select: [{ fn: "sum", column: "a\nb" }] }],
    ["overlong column", { select: [{ fn: "sum", column: "x".repeat(129) }] }],
    ["numeric column", { select: [{ fn: "sum", column: 3 }] }],
    [
      "too many items",
      {
        select: Array.from({ length: MAX_SELECT_ITEMS + 1 }, (_, i) => ({
          fn: "count",
          as: `c${i}`,
        })),
      },
    ],
    ["duplicate outputs", { select: [{ fn: "count" }, { fn: "count" }] }],
    ["output named like a key", { select: [{ fn: "count", as: "g" }], groupBy: ["g"] }],
    ["duplicate group keys", { select: [{ fn: "count" }], groupBy: ["g", "g"] }],
    ["group by not an array", { select: [{ fn: "count" }], groupBy: "g" }],
    ["bad op", { select: [{ fn: "count" }], where: [{ column: "x", op: "LIKE", value: "a%" }] }],
    ["null value", { select: [{ fn: "count" }], where: [{ column: "x", op: "=", value: null }] }],
    [
      "NaN value",
      { select: [{ fn: "count" }], where: [{ column: "x", op: "=", value: Number.NaN }] },
    ],
    ["object value", { select: [{ fn: "count" }], where: [{ column: "x", op: "=", value: {} }] }],
    [
      "inverted clamp",
      { select: [{ fn: "sum", column: "x" }], clamp: [{ column: "x", min: 2, max: 1 }] },
    ],
    [
      "clamp of an unused column",
      { select: [{ fn: "count" }], clamp: [{ column: "x", min: 0, max: 1 }] },
    ],
    [
      "infinite clamp",
      { select: [{ fn: "sum", column: "x" }], clamp: [{ column: "x", min: 0, max: Infinity }] },
    ],
  ])("refuses %s with ANALYTICS_QUERY_INVALID", (_name, input) => {
    expect(errorCode(() => parseQuerySpec(input))).toBe(ANALYTICS_QUERY_INVALID);
  });
});

describe("compilePartialQuery", () => {
  it("quotes identifiers so a hostile column name stays one identifier", () => {
    const hostile = `x" FROM read_csv('/etc/passwd') --`;
    expect(quoteIdentifier(hostile)).toBe(`"x"" FROM read_csv('/etc/passwd') --"`);
    const { sql } = compilePartialQuery(
      parseQuerySpec({
        select: [{ fn: "sum", column: hostile }],
        where: [{ column: "origin", op: "=", value: "a'); COPY x TO '/tmp/y" }],
      }),
    );
    expect(sql).toBe(
      `SELECT sum("x"" FROM read_csv('/etc/passwd') --") AS c0 FROM fragment WHERE ("origin" = 'a''); COPY x TO ''/tmp/y')`,
    );
  });

  it("emits avg as sum and count, clamps with NULLs kept, and limits groups", () => {
    const compiled = compilePartialQuery(
      parseQuerySpec({
        select: [{ fn: "count" }, { fn: "avg", column: "d" }, { fn: "max", column: "d" }],
        groupBy: ["g"],
        where: [{ column: "d", op: "!=", value: 0.5 }],
        clamp: [{ column: "d", min: -1, max: 10 }],
      }),
      11,
    );
    const clamped = `(CASE WHEN "d" IS NULL THEN NULL ELSE least(greatest("d", -1), 10) END)`;
    expect(compiled.sql).toBe(
      `SELECT "g" AS c0, count(*) AS c1, sum(${clamped}) AS c2, count(${clamped}) AS c3, max(${clamped}) AS c4 FROM fragment WHERE ("d" <> CAST('0.5' AS DOUBLE)) GROUP BY "g" LIMIT 11`,
    );
    expect(compiled.partials).toEqual([
      { fn: "count", index: 1 },
      { fn: "avg", sumIndex: 2, countIndex: 3 },
      { fn: "max", index: 4 },
    ]);
    expect(
      compileReferenceQuery(parseQuerySpec({ select: [{ fn: "avg", column: "d" }] }), "t"),
    ).toBe(`SELECT avg("d") AS c0 FROM t`);
  });
});
