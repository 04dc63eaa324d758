import { DpnError } from "@dpn/protocol";
import {
  addValues,
  type CanonicalValue,
  canonicalJson,
  compareKeys,
  compareValues,
  floatValue,
  sha256Hex,
  toNumber,
} from "./canonical.ts";
import { ANALYTICS_PARTIAL_INVALID } from "./errors.ts";
import {
  type AggregateFields,
  PARTIAL_VERSION,
  type Partial,
  type PartialAggregate,
  parsePartial,
  queryDigest,
} from "./partial.ts";
import { type AggregateFunction, outputName, type QuerySpec } from "./querySpec.ts";
import { toQuerySpec } from "./sqlQuery.ts";

/**
 * What the node does with the accepted partial of every fragment: combine them into the job's
 * result. count and sum add (exactly for integers and decimals), min and max combine, avg is
 * Σsum / Σcount. Groups are unioned by key and sorted, so the result is canonical too.
 */

/** Fragments per job: each partial is held in memory while merging. */
export const MAX_MERGE_PARTIALS = 10_000;

export interface QueryResult {
  /** queryDigest of the spec. */
  readonly query: string;
  /** Group columns, then one per select item (its `as` or `fn(column)`). */
  readonly columns: readonly string[];
  /** One row per group, sorted by key; values are canonical (avg as a float, or NULL). */
  readonly rows: readonly (readonly CanonicalValue[])[];
}

type Accumulator =
  | { fn: "count"; count: bigint }
  | { fn: "sum"; sum: CanonicalValue }
  | { fn: "min" | "max"; value: CanonicalValue }
  | { fn: "avg"; sum: CanonicalValue; count: bigint };

function fresh(spec: QuerySpec): Accumulator[] {
  return spec.select.map((item): Accumulator => {
    switch (item.fn) {
      case "count":
        return { fn: "count", count: 0n };
      case "sum":
        return { fn: "sum", sum: null };
      case "avg":
        return { fn: "avg", sum: null, count: 0n };
      default:
        return { fn: item.fn, value: null };
    }
  });
}

function pick(fn: "min" | "max", a: CanonicalValue, b: CanonicalValue): CanonicalValue {
  // NULL means "no value here" and never wins.
  if (a === null) return b;
  if (b === null) return a;
  const c = compareValues(a, b);
  return fn === "min" ? (c <= 0 ? a : b) : c >= 0 ? a : b;
}

/** Adds one validated partial aggregate (parsePartial checked it matches acc.fn) into acc. */
function absorb(acc: Accumulator, raw: AggregateFields): void {
  switch (acc.fn) {
    case "count":
      acc.count += BigInt(raw.count ?? "0");
      return;
    case "sum":
      acc.sum = addValues(acc.sum, raw.sum ?? null);
      return;
    case "avg":
      acc.sum = addValues(acc.sum, raw.sum ?? null);
      acc.count += BigInt(raw.count ?? "0");
      return;
    default:
      acc.value = pick(acc.fn, acc.value, raw[acc.fn] ?? null);
  }
}

function toPartialAggregate(acc: Accumulator): PartialAggregate {
  switch (acc.fn) {
    case "count":
      return { count: acc.count.toString() };
    case "sum":
      return { sum: acc.sum };
    case "avg":
      return { sum: acc.sum, count: acc.count.toString() };
    default:
      return { [acc.fn]: acc.value } as PartialAggregate;
  }
}

/** The final value of one select item from its (merged) partial. */
function finish(fn: AggregateFunction, raw: AggregateFields): CanonicalValue {
  switch (fn) {
    case "count":
      return { int: raw.count ?? "0" };
    case "avg": {
      const count = BigInt(raw.count ?? "0");
      const sum = raw.sum ?? null;
      if (count === 0n || sum === null) return null;
      // One rounding to float here: exact sum (exact as a float up to 2^53) over exact count.
      return floatValue((toNumber(sum) as number) / Number(count));
    }
    default:
      return raw[fn] ?? null;
  }
}

/**
 * Combines the partials of all fragments of one job (each validated against the spec first) into
 * one partial of their union: merging is associative, so partials can also be combined in a tree.
 * Every partial must report the same column types: fragments of one data set share a schema, and
 * a CSV fragment whose types were inferred differently is refused rather than coerced.
 * Float sums are added in the order given; pass partials in fragment order for a reproducible
 * result.
 */
export function combinePartials(query: unknown, partials: readonly unknown[]): Partial {
  const spec = toQuerySpec(query);
  if (partials.length === 0 || partials.length > MAX_MERGE_PARTIALS) {
    throw new DpnError(
      ANALYTICS_PARTIAL_INVALID,
      `Merge needs 1 to ${MAX_MERGE_PARTIALS} partials, got ${partials.length}.`,
      { hint: "Pass the accepted partial of every fragment of the job." },
    );
  }
  const parsed: Partial[] = partials.map((raw) => parsePartial(spec, raw));
  const first = parsed[0] as Partial;
  const schema = canonicalJson(first.columns);
  parsed.forEach((partial, index) => {
    if (canonicalJson(partial.columns) !== schema) {
      throw new DpnError(
        ANALYTICS_PARTIAL_INVALID,
        `Fragment ${index} has column types ${canonicalJson(partial.columns)}, fragment 0 has ${schema}.`,
        {
          hint: "Fragments of one job must share a schema: write them as Parquet from one source, or give CSV columns unambiguous values.",
          details: { index },
        },
      );
    }
  });
  const groups = new Map<string, { key: readonly CanonicalValue[]; acc: Accumulator[] }>();
  try {
    for (const partial of parsed) {
      for (const group of partial.groups) {
        const id = canonicalJson(group.key);
        let entry = groups.get(id);
        if (entry === undefined) {
          entry = { key: group.key, acc: fresh(spec) };
          groups.set(id, entry);
        }
        entry.acc.forEach((acc, i) => {
          absorb(acc, group.values[i] as PartialAggregate);
        });
      }
    }
  } catch (error) {
    if (error instanceof DpnError) throw error;
    throw new DpnError(ANALYTICS_PARTIAL_INVALID, "Partials disagree on the kinds of values.", {
      hint: "A partial mixes value kinds within one column; treat its replica as failed.",
      cause: error,
    });
  }
  return {
    version: PARTIAL_VERSION,
    query: first.query,
    columns: first.columns,
    groups: [...groups.values()]
      .sort((a, b) => compareKeys(a.key, b.key))
      .map(({ key, acc }) => ({ key, values: acc.map(toPartialAggregate) })),
  };
}

/** The final result of a (combined) partial: avg becomes Σsum / Σcount. */
export function finalizeResult(query: unknown, partial: Partial): QueryResult {
  const spec = toQuerySpec(query);
  return {
    query: queryDigest(spec),
    columns: [...(spec.groupBy ?? []), ...spec.select.map(outputName)],
    rows: partial.groups.map((group) => [
      ...group.key,
      ...spec.select.map((item, i) => finish(item.fn, group.values[i] as PartialAggregate)),
    ]),
  };
}

/** combinePartials then finalizeResult: the job's result from its fragments' partials. */
export function mergePartials(query: unknown, partials: readonly unknown[]): QueryResult {
  const spec = toQuerySpec(query);
  return finalizeResult(spec, combinePartials(spec, partials));
}

/** SHA-256 of the result's canonical JSON, for recording and comparing results. */
export function resultDigest(result: QueryResult): string {
  return sha256Hex(canonicalJson(result));
}
