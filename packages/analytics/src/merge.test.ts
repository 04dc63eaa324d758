import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CanonicalValue, canonicalJson } from "./canonical.ts";
import { ANALYTICS_PARTIAL_INVALID } from "./errors.ts";
import { runFragmentQuery } from "./execute.ts";
import { combinePartials, finalizeResult, mergePartials } from "./merge.ts";
import { parseQuerySpec, type QuerySpec, type SelectItem } from "./querySpec.ts";
import {
  errorOf,
  referenceRows,
  type TestCell,
  type TestColumn,
  tempDir,
  writeFragment,
} from "./testing.ts";

const columns: TestColumn[] = [
  { name: "g", type: "VARCHAR" },
  { name: "h", type: "INTEGER" },
  { name: "x", type: "BIGINT" },
  { name: "y", type: "DOUBLE" },
  { name: "d", type: "DECIMAL(10,2)" },
];

// y is a multiple of 1/8 below 2^10: every float sum here is exact, so merged and reference
// float sums must match exactly, not just within a tolerance.
const row = fc.tuple(
  fc.option(fc.constantFrom("a", "b", "é", "B", ""), { nil: null }),
  fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: null }),
  fc.option(
    fc.integer({ min: -800, max: 800 }).map((k) => k / 8),
    { nil: null },
  ),
  fc.option(
    fc.integer({ min: -99_999, max: 99_999 }).map((k) => (k / 100).toFixed(2)),
    { nil: null },
  ),
);

const selectItems: SelectItem[] = [
  { fn: "count" },
  { fn: "count", column: "y" },
  { fn: "sum", column: "x" },
  { fn: "sum", column: "y" },
  { fn: "sum", column: "d" },
  { fn: "min", column: "x" },
  { fn: "max", column: "y" },
  { fn: "min", column: "g" },
  { fn: "max", column: "d" },
  { fn: "avg", column: "x" },
  { fn: "avg", column: "y" },
  { fn: "avg", column: "d" },
];

const query = fc
  .record({
    select: fc.subarray(selectItems, { minLength: 1 }),
    groupBy: fc.subarray(["g", "h"]),
    where: fc.subarray([
      { column: "x", op: ">", value: -500_000 } as const,
      { column: "g", op: "!=", value: "b" } as const,
      { column: "y", op: "<=", value: 50.5 } as const,
    ]),
    clampX: fc.boolean(),
  })
  .map(({ select, groupBy, where, clampX }) =>
    parseQuerySpec({
      select,
      ...(groupBy.length === 0 ? {} : { groupBy }),
      ...(where.length === 0 ? {} : { where }),
      ...(clampX && select.some((s) => s.column === "x" && s.fn !== "count")
        ? { clamp: [{ column: "x", min: -1000, max: 1000 }] }
        : {}),
    }),
  );

/** avg is a float computed in different orders; everything else must match exactly. */
function expectSameRows(
  spec: QuerySpec,
  merged: readonly (readonly CanonicalValue[])[],
  reference: CanonicalValue[][],
): void {
  expect(merged.length).toBe(reference.length);
  const keyCount = spec.groupBy?.length ?? 0;
  merged.forEach((mergedRow, r) => {
    const referenceRow = reference[r] as CanonicalValue[];
    mergedRow.forEach((value, c) => {
      const expected = referenceRow[c] ?? null;
      const item = spec.select[c - keyCount];
      if (
        item?.fn === "avg" &&
        value !== null &&
        expected !== null &&
        "float" in value &&
        "float" in expected
      ) {
        expect(value.float).toBeCloseTo(expected.float as number, 9);
      } else {
        expect(canonicalJson(value)).toBe(canonicalJson(expected));
      }
    });
  });
}

describe("mergePartials", () => {
  it("equals DuckDB on the union of the fragments, for any split and any query", async () => {
    const dir = tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(row, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        query,
        async (fragments, spec) => {
          run++;
          const paths = fragments.map((_, i) => join(dir, `run${run}-f${i}.parquet`));
          await Promise.all(
            fragments.map((rows, i) =>
              writeFragment(paths[i] as string, columns, rows as unknown as TestCell[][]),
            ),
          );
          const partials = [];
          for (const path of paths) partials.push((await runFragmentQuery({ path }, spec)).partial);
          const merged = mergePartials(spec, partials);
          expectSameRows(spec, merged.rows, await referenceRows(spec, paths));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("is associative: combining in a tree equals combining flat", async () => {
    const dir = tempDir();
    const spec = parseQuerySpec({
      select: [
        { fn: "avg", column: "x" },
        { fn: "sum", column: "d" },
        { fn: "min", column: "g" },
      ],
      groupBy: ["h"],
    });
    const rows: TestCell[][] = Array.from({ length: 30 }, (_, i) => [
      `g${i % 5}`,
      i % 3,
      i * 7 - 50,
      i / 4,
      (i * 1.25).toFixed(2),
    ]);
    const partials = [];
    for (let f = 0; f < 3; f++) {
      const path = join(dir, `tree-${f}.parquet`);
      await writeFragment(path, columns, rows.slice(f * 10, f * 10 + 10));
      partials.push((await runFragmentQuery({ path }, spec)).partial);
    }
    const flat = combinePartials(spec, partials);
    const tree = combinePartials(spec, [combinePartials(spec, partials.slice(0, 2)), partials[2]]);
    expect(canonicalJson(tree)).toBe(canonicalJson(flat));
    expect(finalizeResult(spec, flat).columns).toEqual(["h", "avg(x)", "sum(d)", "min(g)"]);
  });

  it("refuses partials that are malformed, for another query, or of another schema", async () => {
    const dir = tempDir();
    const spec = parseQuerySpec({ select: [{ fn: "sum", column: "x" }], groupBy: ["g"] });
    const path = join(dir, "a.parquet");
    await writeFragment(path, columns, [["a", 1, 1, 1, "1.00"]]);
    const good = (await runFragmentQuery({ path }, spec)).partial;
    const otherQuery = (await runFragmentQuery({ path }, { select: [{ fn: "count" }] })).partial;
    const doublePath = join(dir, "b.parquet");
    await writeFragment(
      doublePath,
      [
        { name: "g", type: "VARCHAR" },
        { name: "x", type: "DOUBLE" },
      ],
      [["a", 1.5]],
    );
    const otherSchema = (await runFragmentQuery({ path: doublePath }, spec)).partial;
    const bad: unknown[] = [
      null,
      { ...good, version: 2 },
      otherQuery,
      otherSchema,
      { ...good, groups: [{ key: [{ str: "a" }], values: [{ count: "1" }] }] },
      { ...good, groups: [{ key: [{ str: "a" }], values: [{ sum: { int: "01" } }] }] },
      { ...good, groups: [{ key: [{ str: "a" }], values: [{ sum: { int: 1 } }] }] },
      { ...good, groups: [{ key: [{ sql: "DROP" }], values: [{ sum: null }] }] },
      { ...good, groups: [{ key: [], values: [{ sum: null }] }] },
      {
        ...good,
        groups: [
          { key: [{ str: "b" }], values: [{ sum: null }] },
          { key: [{ str: "a" }], values: [{ sum: null }] },
        ],
      },
      { ...good, groups: [{ key: [{ str: "a" }], values: [{ sum: { float: 1.5 } }] }] },
    ];
    for (const partial of bad) {
      const error = await errorOf(() => mergePartials(spec, [good, partial]));
      expect(error.code, JSON.stringify(partial)).toBe(ANALYTICS_PARTIAL_INVALID);
    }
    expect((await errorOf(() => mergePartials(spec, []))).code).toBe(ANALYTICS_PARTIAL_INVALID);
  });
});
