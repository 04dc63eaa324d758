import { DpnError } from "@dpn/protocol";
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from "@duckdb/node-api";
import {
  type CanonicalValue,
  canonicalJson,
  compareKeys,
  floatValue,
  sha256Hex,
} from "./canonical.ts";
import { compilePartialQuery, referencedColumns } from "./compile.ts";
import { ANALYTICS_COLUMN_INVALID, ANALYTICS_TOO_MANY_GROUPS } from "./errors.ts";
import {
  executionFailed,
  type FragmentDbOptions,
  type FragmentRef,
  openFragmentDb,
} from "./fragmentDb.ts";
import {
  type ColumnType,
  MAX_PARTIAL_GROUPS,
  PARTIAL_VERSION,
  type Partial,
  type PartialAggregate,
  type PartialGroup,
  queryDigest,
} from "./partial.ts";
import type { QuerySpec } from "./querySpec.ts";
import { toQuerySpec } from "./sqlQuery.ts";

/**
 * What a device does for one `sql-analytics` task: validate the query (spec or SQL), run it over
 * its one fragment in a locked-down in-memory DuckDB, and return the partial aggregates in
 * canonical JSON with their SHA-256, so that honest replicas of the same fragment return the same
 * bytes and the node can compare digests.
 */

export interface FragmentResult {
  readonly partial: Partial;
  /** canonicalJson(partial): what the device sends. */
  readonly json: string;
  /** SHA-256 (hex) of `json`: what replicas are compared by. */
  readonly digest: string;
}

const INTEGER_TYPES = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

/** Column types a query may group by, compare with min/max, or (numeric ones) sum. */
const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))$/;
const ORDERED_TYPE = /^(BOOLEAN|VARCHAR|DATE|TIMESTAMP)$/;

/** Converts one DuckDB result value of a supported type to its canonical form (`column` names it in errors). */
export function toCanonicalValue(
  value: DuckDBValue,
  type: DuckDBType,
  column = "",
): CanonicalValue {
  if (value === null) return null;
  const id = type.typeId;
  if (INTEGER_TYPES.has(id) && (typeof value === "number" || typeof value === "bigint")) {
    return { int: BigInt(value).toString() };
  }
  if ((id === DuckDBTypeId.DOUBLE || id === DuckDBTypeId.FLOAT) && typeof value === "number") {
    return floatValue(value);
  }
  if (id === DuckDBTypeId.DECIMAL && value instanceof DuckDBDecimalValue) {
    return { dec: value.toString() };
  }
  if (id === DuckDBTypeId.VARCHAR && typeof value === "string") return { str: value };
  if (id === DuckDBTypeId.BOOLEAN && typeof value === "boolean") return { bool: value };
  if (id === DuckDBTypeId.DATE && value instanceof DuckDBDateValue) {
    return { date: String(value.days) };
  }
  if (id === DuckDBTypeId.TIMESTAMP && value instanceof DuckDBTimestampValue) {
    return { ts: value.micros.toString() };
  }
  throw new DpnError(
    ANALYTICS_COLUMN_INVALID,
    `Column "${column}" yields ${type.toString()} values, which analytics cannot compare.`,
    {
      hint: "Group, min and max work on booleans, numbers, VARCHAR, DATE and TIMESTAMP.",
      details: { column, type: type.toString() },
    },
  );
}

function columnInvalid(message: string, hint: string, column: string, type?: string): DpnError {
  return new DpnError(ANALYTICS_COLUMN_INVALID, message, {
    hint,
    details: type === undefined ? { column } : { column, type },
  });
}

/** Checks every column the spec reads against the fragment's schema; returns their types. */
function checkColumns(spec: QuerySpec, schema: ReadonlyMap<string, string>): ColumnType[] {
  const columns = referencedColumns(spec).map((name) => {
    const type = schema.get(name);
    if (type === undefined) {
      throw columnInvalid(
        `The fragment has no column "${name}".`,
        `Columns are matched exactly; the fragment has: ${[...schema.keys()].join(", ")}.`,
        name,
      );
    }
    return { name, type };
  });
  const typeOf = (name: string): string => schema.get(name) as string;
  for (const item of spec.select) {
    if (item.column === undefined || item.fn === "count") continue;
    const type = typeOf(item.column);
    if (item.fn === "sum" || item.fn === "avg") {
      if (!NUMERIC_TYPE.test(type)) {
        throw columnInvalid(
          `${item.fn}("${item.column}") needs a numeric column, but it is ${type}.`,
          "Sum and average integer, decimal or floating-point columns.",
          item.column,
          type,
        );
      }
    } else if (!NUMERIC_TYPE.test(type) && !ORDERED_TYPE.test(type)) {
      throw columnInvalid(
        `${item.fn}("${item.column}") cannot compare ${type} values.`,
        "Min and max work on booleans, numbers, VARCHAR, DATE and TIMESTAMP.",
        item.column,
        type,
      );
    }
  }
  for (const key of spec.groupBy ?? []) {
    const type = typeOf(key);
    if (!NUMERIC_TYPE.test(type) && !ORDERED_TYPE.test(type)) {
      throw columnInvalid(
        `Cannot group by "${key}" of type ${type}.`,
        "Group by booleans, numbers, VARCHAR, DATE or TIMESTAMP columns.",
        key,
        type,
      );
    }
  }
  return columns;
}

function countText(value: CanonicalValue): string {
  // count(…) is BIGINT and never NULL.
  return value !== null && "int" in value ? value.int : "0";
}

/**
 * Runs a query (QuerySpec object or SQL text, validated first, before anything is opened) over
 * one fragment and returns its canonical partial and digest.
 */
export async function runFragmentQuery(
  fragment: FragmentRef,
  query: unknown,
  options: FragmentDbOptions = {},
): Promise<FragmentResult> {
  const spec = toQuerySpec(query);
  const db = await openFragmentDb(fragment, options);
  try {
    const described = await db.run("SELECT column_name, column_type FROM (DESCRIBE fragment)");
    const schema = new Map(described.getRows().map((row) => [String(row[0]), String(row[1])]));
    const columns = checkColumns(spec, schema);
    const compiled = compilePartialQuery(spec, MAX_PARTIAL_GROUPS + 1);
    let reader: Awaited<ReturnType<typeof db.run>>;
    try {
      reader = await db.run(compiled.sql);
    } catch (error) {
      throw executionFailed(error, compiled.sql);
    }
    const rows = reader.getRows();
    if (rows.length > MAX_PARTIAL_GROUPS) {
      throw new DpnError(
        ANALYTICS_TOO_MANY_GROUPS,
        `The query yields more than ${MAX_PARTIAL_GROUPS} groups on this fragment.`,
        { hint: "Group by fewer or coarser columns." },
      );
    }
    const types = reader.columnTypes();
    const keyNames = spec.groupBy ?? [];
    // The source column of each result column, for error messages.
    const labels = [
      ...keyNames,
      ...spec.select.flatMap((item) => {
        const label = item.column ?? "*";
        return item.fn === "avg" ? [label, label] : [label];
      }),
    ];
    const value = (row: readonly DuckDBValue[], index: number): CanonicalValue =>
      toCanonicalValue(row[index] ?? null, types[index] as DuckDBType, labels[index] ?? "");
    const groups: PartialGroup[] = rows.map((row) => ({
      key: keyNames.map((_, i) => value(row, i)),
      values: compiled.partials.map((p): PartialAggregate => {
        if (p.fn === "avg") {
          return { sum: value(row, p.sumIndex), count: countText(value(row, p.countIndex)) };
        }
        if (p.fn === "count") return { count: countText(value(row, p.index)) };
        return { [p.fn]: value(row, p.index) } as PartialAggregate;
      }),
    }));
    groups.sort((a, b) => compareKeys(a.key, b.key));
    const partial: Partial = {
      version: PARTIAL_VERSION,
      query: queryDigest(spec),
      columns,
      groups,
    };
    const json = canonicalJson(partial);
    return { partial, json, digest: sha256Hex(json) };
  } finally {
    db.close();
  }
}
