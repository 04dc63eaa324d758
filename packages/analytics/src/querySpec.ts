import { DpnError } from "@dpn/protocol";
import { ANALYTICS_QUERY_INVALID } from "./errors.ts";

/**
 * The query language of `sql-analytics` jobs, as data: a restricted aggregate query over the one
 * table `fragment`. Every aggregate is decomposable (count and sum add, min and max combine,
 * avg travels as sum + count), so a job splits into per-fragment partials that the node merges.
 * There is no expression language: a query is columns, five aggregates, conjunctive comparisons
 * with literals and optional clamp bounds, which is what makes it safe to run on any device.
 */

export const AGGREGATE_FUNCTIONS = ["count", "sum", "min", "max", "avg"] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

export const COMPARISON_OPS = ["=", "!=", "<", "<=", ">", ">="] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export interface SelectItem {
  readonly fn: AggregateFunction;
  /** The aggregated column; omitted only for count, which then counts rows (count(*)). */
  readonly column?: string;
  /** Output name; defaults to `fn(column)` or `count(*)`. */
  readonly as?: string;
}

export interface Predicate {
  readonly column: string;
  readonly op: ComparisonOp;
  readonly value: string | number | boolean;
}

/**
 * Values of `column` are clamped to [min, max] before sum, avg, min and max (not in predicates or
 * group keys). Clamping bounds what one row can add to a sum, which is what gives a sum a finite
 * sensitivity for Laplace noise; without noise it is simply winsorising.
 */
export interface ClampBound {
  readonly column: string;
  readonly min: number;
  readonly max: number;
}

export interface QuerySpec {
  readonly select: readonly SelectItem[];
  readonly groupBy?: readonly string[];
  /** Conjunction (AND) of comparisons. */
  readonly where?: readonly Predicate[];
  readonly clamp?: readonly ClampBound[];
}

/** Aggregates per query: each is a column of every partial group, and a partial must stay small. */
export const MAX_SELECT_ITEMS = 32;
/** Group-by columns: more than this is a row dump, not an aggregate. */
export const MAX_GROUP_BY = 8;
export const MAX_PREDICATES = 32;
/** DuckDB allows longer names; no data set we serve needs them and they bloat every partial. */
export const MAX_IDENTIFIER_LENGTH = 128;
/** Longest string literal in a predicate. */
export const MAX_STRING_LITERAL_LENGTH = 1024;

/** No control characters (NUL would truncate a C string inside DuckDB), and not empty. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function invalid(message: string, hint: string, details: Record<string, unknown> = {}): DpnError {
  return new DpnError(ANALYTICS_QUERY_INVALID, message, { hint, details });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(
  where: string,
  value: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw invalid(
        `Unknown field "${key}" in ${where}.`,
        `Allowed fields: ${allowed.join(", ")}.`,
        {
          field: key,
        },
      );
    }
  }
}

/** A column name: any string of 1..128 characters without control characters (it is always quoted). */
export function checkIdentifier(where: string, value: unknown): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > MAX_IDENTIFIER_LENGTH ||
    CONTROL_CHARS.test(value)
  ) {
    throw invalid(
      `${where} must be a column name of 1 to ${MAX_IDENTIFIER_LENGTH} characters without control characters.`,
      "Name a column of the fragment exactly as it appears in the file header.",
      { where },
    );
  }
  return value;
}

function checkFiniteNumber(where: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalid(
      `${where} must be a finite number.`,
      "NaN and infinities are not valid bounds or literals.",
      {
        where,
      },
    );
  }
  return value;
}

function checkArray(where: string, value: unknown, max: number, allowEmpty: boolean): unknown[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0) || value.length > max) {
    throw invalid(
      `${where} must be an array of ${allowEmpty ? 0 : 1} to ${max} entries.`,
      "See QuerySpec in @dpn/analytics for the accepted shape.",
      { where },
    );
  }
  return value;
}

/** The output name of a select item. */
export function outputName(item: SelectItem): string {
  return item.as ?? `${item.fn}(${item.column ?? "*"})`;
}

function parseSelectItem(raw: unknown, index: number): SelectItem {
  const where = `select[${index}]`;
  if (!isRecord(raw))
    throw invalid(`${where} must be an object.`, 'For example { "fn": "count" }.');
  checkKeys(where, raw, ["fn", "column", "as"]);
  const fn = raw.fn;
  if (typeof fn !== "string" || !(AGGREGATE_FUNCTIONS as readonly string[]).includes(fn)) {
    throw invalid(
      `${where}.fn must be one of ${AGGREGATE_FUNCTIONS.join(", ")}, got ${JSON.stringify(fn)}.`,
      "Only decomposable aggregates can be split across fragments.",
      { fn: String(fn) },
    );
  }
  const aggregate = fn as AggregateFunction;
  let column: string | undefined;
  if (raw.column !== undefined) column = checkIdentifier(`${where}.column`, raw.column);
  else if (aggregate !== "count") {
    throw invalid(`${where}: ${aggregate} needs a column.`, "Only count may omit the column.");
  }
  const as = raw.as === undefined ? undefined : checkIdentifier(`${where}.as`, raw.as);
  return {
    fn: aggregate,
    ...(column === undefined ? {} : { column }),
    ...(as === undefined ? {} : { as }),
  };
}

function parsePredicate(raw: unknown, index: number): Predicate {
  const where = `where[${index}]`;
  if (!isRecord(raw)) {
    throw invalid(
      `${where} must be an object.`,
      'For example { "column": "delay", "op": ">", "value": 0 }.',
    );
  }
  checkKeys(where, raw, ["column", "op", "value"]);
  const column = checkIdentifier(`${where}.column`, raw.column);
  const op = raw.op;
  if (typeof op !== "string" || !(COMPARISON_OPS as readonly string[]).includes(op)) {
    throw invalid(
      `${where}.op must be one of ${COMPARISON_OPS.join(" ")}, got ${JSON.stringify(op)}.`,
      "Predicates compare one column with one literal.",
    );
  }
  const value = raw.value;
  if (typeof value === "number") checkFiniteNumber(`${where}.value`, value);
  else if (typeof value === "string") {
    if (value.length > MAX_STRING_LITERAL_LENGTH || value.includes("\u0000")) {
      throw invalid(
        `${where}.value must be at most ${MAX_STRING_LITERAL_LENGTH} characters without NUL.`,
        "Compare with a shorter literal.",
      );
    }
  } else if (typeof value !== "boolean") {
    throw invalid(
      `${where}.value must be a string, a finite number or a boolean.`,
      "NULL comparisons are always unknown in SQL; filter on a real value.",
    );
  }
  return { column, op: op as ComparisonOp, value };
}

function parseClamp(raw: unknown, index: number): ClampBound {
  const where = `clamp[${index}]`;
  if (!isRecord(raw))
    throw invalid(
      `${where} must be an object.`,
      'For example { "column": "delay", "min": -60, "max": 600 }.',
    );
  checkKeys(where, raw, ["column", "min", "max"]);
  const column = checkIdentifier(`${where}.column`, raw.column);
  const min = checkFiniteNumber(`${where}.min`, raw.min);
  const max = checkFiniteNumber(`${where}.max`, raw.max);
  if (min > max) throw invalid(`${where}: min ${min} exceeds max ${max}.`, "Swap the bounds.");
  return { column, min, max };
}

function checkUnique(where: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw invalid(
        `${where}: "${name}" appears twice.`,
        "Give each output a distinct name with `as`.",
        {
          name,
        },
      );
    }
    seen.add(name);
  }
}

/**
 * Validates untrusted input (a parsed JSON body) into a QuerySpec, or throws
 * ANALYTICS_QUERY_INVALID naming the first problem. Unknown fields are refused, not ignored, so a
 * typo never silently changes a query. The result is a fresh, frozen object.
 */
export function parseQuerySpec(input: unknown): QuerySpec {
  if (!isRecord(input)) {
    throw invalid(
      "A query spec must be an object.",
      'For example { "select": [{ "fn": "count" }] }.',
    );
  }
  checkKeys("the query spec", input, ["select", "groupBy", "where", "clamp"]);
  const select = checkArray("select", input.select, MAX_SELECT_ITEMS, false).map(parseSelectItem);
  const groupBy =
    input.groupBy === undefined
      ? undefined
      : checkArray("groupBy", input.groupBy, MAX_GROUP_BY, true).map((column, i) =>
          checkIdentifier(`groupBy[${i}]`, column),
        );
  const where =
    input.where === undefined
      ? undefined
      : checkArray("where", input.where, MAX_PREDICATES, true).map(parsePredicate);
  const clamp =
    input.clamp === undefined
      ? undefined
      : checkArray("clamp", input.clamp, MAX_SELECT_ITEMS, true).map(parseClamp);
  checkUnique("groupBy", groupBy ?? []);
  checkUnique("select", [...(groupBy ?? []), ...select.map(outputName)]);
  checkUnique(
    "clamp",
    (clamp ?? []).map((bound) => bound.column),
  );
  for (const bound of clamp ?? []) {
    if (!select.some((item) => item.column === bound.column && item.fn !== "count")) {
      throw invalid(
        `clamp names "${bound.column}", which no sum, avg, min or max aggregates.`,
        "Clamp only the columns you aggregate.",
        { column: bound.column },
      );
    }
  }
  return deepFreeze({
    select,
    ...(groupBy === undefined ? {} : { groupBy }),
    ...(where === undefined ? {} : { where }),
    ...(clamp === undefined ? {} : { clamp }),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
