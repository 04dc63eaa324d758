import type { AggregateFunction, Predicate, QuerySpec, SelectItem } from "./querySpec.ts";

/**
 * Compiles a validated QuerySpec to DuckDB SQL. Identifiers are always double-quoted with `"`
 * doubled and literals single-quoted with `'` doubled (DuckDB's standard strings treat `\` as an
 * ordinary character), so no column name or value can end its token: the only table is
 * `fragment` and the only functions are the ones written here.
 */

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Safe integers stay integer literals (exact integer comparisons and sums); others are DOUBLEs. */
function numberLiteral(value: number): string {
  if (Number.isSafeInteger(value)) return String(value);
  return `CAST(${quoteString(String(value))} AS DOUBLE)`;
}

function literal(value: string | number | boolean): string {
  if (typeof value === "string") return quoteString(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  return numberLiteral(value);
}

const SQL_OPS: Readonly<Record<Predicate["op"], string>> = {
  "=": "=",
  "!=": "<>",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};

/** The aggregate input: the column, clamped when the spec bounds it (NULL stays NULL). */
function aggregateInput(spec: QuerySpec, column: string): string {
  const quoted = quoteIdentifier(column);
  const bound = spec.clamp?.find((b) => b.column === column);
  if (bound === undefined) return quoted;
  // greatest/least skip NULLs in DuckDB, so NULL is kept explicitly: a missing value must not
  // become the lower bound.
  return `(CASE WHEN ${quoted} IS NULL THEN NULL ELSE least(greatest(${quoted}, ${numberLiteral(bound.min)}), ${numberLiteral(bound.max)}) END)`;
}

function whereClause(spec: QuerySpec): string {
  const predicates = spec.where ?? [];
  if (predicates.length === 0) return "";
  const terms = predicates.map(
    (p) => `(${quoteIdentifier(p.column)} ${SQL_OPS[p.op]} ${literal(p.value)})`,
  );
  return ` WHERE ${terms.join(" AND ")}`;
}

function groupByClause(spec: QuerySpec): string {
  const keys = spec.groupBy ?? [];
  return keys.length === 0 ? "" : ` GROUP BY ${keys.map(quoteIdentifier).join(", ")}`;
}

/** Which result columns hold each select item's partial, in the order the SQL produces them. */
export type PartialColumns =
  | { readonly fn: "count" | "sum" | "min" | "max"; readonly index: number }
  | { readonly fn: "avg"; readonly sumIndex: number; readonly countIndex: number };

export interface CompiledQuery {
  readonly sql: string;
  readonly keyCount: number;
  readonly partials: readonly PartialColumns[];
}

function partialTerms(spec: QuerySpec, item: SelectItem): string[] {
  if (item.fn === "count") {
    return [item.column === undefined ? "count(*)" : `count(${quoteIdentifier(item.column)})`];
  }
  // parseQuerySpec guarantees a column for every other aggregate.
  const input = aggregateInput(spec, item.column as string);
  if (item.fn === "avg") return [`sum(${input})`, `count(${input})`];
  return [`${item.fn satisfies Exclude<AggregateFunction, "count" | "avg">}(${input})`];
}

/**
 * The SQL a device runs on its fragment: group keys, then each aggregate's partial (avg as sum and
 * count). At most `groupLimit` rows are returned, so a caller can detect an oversized result by
 * asking for one more than it accepts.
 */
export function compilePartialQuery(spec: QuerySpec, groupLimit?: number): CompiledQuery {
  const keys = spec.groupBy ?? [];
  const terms: string[] = keys.map(quoteIdentifier);
  const partials: PartialColumns[] = [];
  for (const item of spec.select) {
    const itemTerms = partialTerms(spec, item);
    const index = terms.length;
    partials.push(
      item.fn === "avg"
        ? { fn: "avg", sumIndex: index, countIndex: index + 1 }
        : { fn: item.fn, index },
    );
    terms.push(...itemTerms);
  }
  const aliased = terms.map((term, i) => `${term} AS c${i}`);
  const limit = groupLimit === undefined ? "" : ` LIMIT ${Math.floor(groupLimit)}`;
  return {
    sql: `SELECT ${aliased.join(", ")} FROM fragment${whereClause(spec)}${groupByClause(spec)}${limit}`,
    keyCount: keys.length,
    partials,
  };
}

/**
 * The same query as one ordinary SQL statement (avg as avg) over `source`, a trusted FROM clause
 * written by the caller. For reference runs in tests and benchmarks, never for device input.
 */
export function compileReferenceQuery(spec: QuerySpec, source: string): string {
  const keys = (spec.groupBy ?? []).map(quoteIdentifier);
  const aggregates = spec.select.map((item) => {
    if (item.fn === "count") return partialTerms(spec, item)[0] as string;
    return `${item.fn}(${aggregateInput(spec, item.column as string)})`;
  });
  const terms = [...keys, ...aggregates].map((term, i) => `${term} AS c${i}`);
  return `SELECT ${terms.join(", ")} FROM ${source}${whereClause(spec)}${groupByClause(spec)}`;
}

/** Every column the query reads, each once, in first-use order. */
export function referencedColumns(spec: QuerySpec): string[] {
  const columns = [
    ...(spec.groupBy ?? []),
    ...spec.select.flatMap((item) => (item.column === undefined ? [] : [item.column])),
    ...(spec.where ?? []).map((p) => p.column),
  ];
  return [...new Set(columns)];
}
