import { DpnError } from "@dpn/protocol";
import { type CanonicalValue, canonicalJson, compareKeys, sha256Hex } from "./canonical.ts";
import { ANALYTICS_PARTIAL_INVALID } from "./errors.ts";
import type { QuerySpec } from "./querySpec.ts";

/**
 * The partial aggregate a device returns for one fragment, and its validation on the node (a
 * partial arrives from an untrusted device, so merge never trusts its shape).
 *
 * One entry per select item, by aggregate: count → { count }, sum → { sum }, min → { min },
 * max → { max }, avg → { sum, count } (count of non-null inputs). Groups are sorted by key
 * (compareKeys); with no GROUP BY there is exactly one group with an empty key, even for an
 * empty fragment, so every fragment contributes its zero counts.
 */
export const PARTIAL_VERSION = 1;

/** Groups one partial may carry: ~100 bytes each keeps a partial under ~10 MB on the wire. */
export const MAX_PARTIAL_GROUPS = 100_000;

export type PartialAggregate =
  | { readonly count: string }
  | { readonly sum: CanonicalValue }
  | { readonly min: CanonicalValue }
  | { readonly max: CanonicalValue }
  | { readonly sum: CanonicalValue; readonly count: string };

/** Every field any aggregate may carry: a PartialAggregate read without narrowing its kind. */
export interface AggregateFields {
  readonly count?: string;
  readonly sum?: CanonicalValue;
  readonly min?: CanonicalValue;
  readonly max?: CanonicalValue;
}

export interface PartialGroup {
  readonly key: readonly CanonicalValue[];
  readonly values: readonly PartialAggregate[];
}

export interface ColumnType {
  readonly name: string;
  /** DuckDB's type name, e.g. BIGINT, DOUBLE, VARCHAR, DECIMAL(18,3). */
  readonly type: string;
}

export interface Partial {
  readonly version: typeof PARTIAL_VERSION;
  /** queryDigest of the spec this partial answers. */
  readonly query: string;
  /** The fragment's types of every column the query reads, in first-use order. */
  readonly columns: readonly ColumnType[];
  readonly groups: readonly PartialGroup[];
}

/** SHA-256 of the spec's canonical JSON: equal for a spec and the SQL text that parses to it. */
export function queryDigest(spec: QuerySpec): string {
  return sha256Hex(canonicalJson(spec));
}

function bad(message: string, details: Record<string, unknown> = {}): DpnError {
  return new DpnError(ANALYTICS_PARTIAL_INVALID, message, {
    hint: "The device returned a malformed partial; treat it as a failed replica.",
    details,
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const INTEGER_TEXT = /^-?(0|[1-9]\d{0,99})$/;
const DECIMAL_TEXT = /^-?(0|[1-9]\d{0,99})\.\d{1,99}$|^-?(0|[1-9]\d{0,99})$/;
const FLOAT_SPECIALS = ["NaN", "Infinity", "-Infinity"];

function checkCount(value: unknown, where: string): string {
  if (typeof value !== "string" || !INTEGER_TEXT.test(value) || value.startsWith("-")) {
    throw bad(`${where} must be a non-negative integer string.`, { where });
  }
  return value;
}

/** Checks one canonical value's shape; returns it unchanged. */
export function checkCanonicalValue(value: unknown, where: string): CanonicalValue {
  if (value === null) return null;
  if (!isRecord(value)) throw bad(`${where} is not a canonical value.`, { where });
  const keys = Object.keys(value);
  const kind = keys[0];
  const v = kind === undefined ? undefined : value[kind];
  const ok =
    keys.length === 1 &&
    ((kind === "int" && typeof v === "string" && INTEGER_TEXT.test(v)) ||
      (kind === "dec" && typeof v === "string" && DECIMAL_TEXT.test(v)) ||
      (kind === "float" &&
        ((typeof v === "number" && Number.isFinite(v)) ||
          (typeof v === "string" && FLOAT_SPECIALS.includes(v)))) ||
      (kind === "str" && typeof v === "string") ||
      (kind === "bool" && typeof v === "boolean") ||
      ((kind === "date" || kind === "ts") && typeof v === "string" && INTEGER_TEXT.test(v)));
  if (!ok) throw bad(`${where} is not a canonical value.`, { where });
  return value as CanonicalValue;
}

function checkAggregate(spec: QuerySpec, raw: unknown, i: number, where: string): PartialAggregate {
  const fn = spec.select[i]?.fn;
  if (!isRecord(raw)) throw bad(`${where} must be an object.`, { where });
  const keys = Object.keys(raw).sort().join(",");
  switch (fn) {
    case "count":
      if (keys !== "count") break;
      return { count: checkCount(raw.count, `${where}.count`) };
    case "sum":
    case "min":
    case "max":
      if (keys !== fn) break;
      return { [fn]: checkCanonicalValue(raw[fn], `${where}.${fn}`) } as PartialAggregate;
    case "avg":
      if (keys !== "count,sum") break;
      return {
        sum: checkCanonicalValue(raw.sum, `${where}.sum`),
        count: checkCount(raw.count, `${where}.count`),
      };
  }
  throw bad(`${where} does not match aggregate ${String(fn)}.`, { where });
}

/**
 * Validates an untrusted partial against the spec it should answer. Checks shape, the query
 * digest, group count and key arity, and that groups are strictly sorted (so a partial has one
 * byte form). Kinds within a column are checked when merging.
 */
export function parsePartial(spec: QuerySpec, raw: unknown): Partial {
  if (!isRecord(raw)) throw bad("A partial must be an object.");
  if (raw.version !== PARTIAL_VERSION) {
    throw bad(`Unsupported partial version ${String(raw.version)}.`, { version: raw.version });
  }
  const expected = queryDigest(spec);
  if (raw.query !== expected) {
    throw bad("The partial answers a different query.", { expected, got: raw.query });
  }
  if (!Array.isArray(raw.columns) || !Array.isArray(raw.groups)) {
    throw bad("A partial needs columns and groups arrays.");
  }
  const columns = raw.columns.map((c, i): ColumnType => {
    if (!isRecord(c) || typeof c.name !== "string" || typeof c.type !== "string") {
      throw bad(`columns[${i}] must be { name, type }.`);
    }
    return { name: c.name, type: c.type };
  });
  const keyCount = spec.groupBy?.length ?? 0;
  if (raw.groups.length > MAX_PARTIAL_GROUPS) {
    throw bad(`A partial may carry at most ${MAX_PARTIAL_GROUPS} groups.`);
  }
  if (keyCount === 0 && raw.groups.length !== 1) {
    throw bad("Without GROUP BY a partial has exactly one group.");
  }
  const groups = raw.groups.map((g, gi): PartialGroup => {
    const where = `groups[${gi}]`;
    if (!isRecord(g) || !Array.isArray(g.key) || !Array.isArray(g.values)) {
      throw bad(`${where} must be { key, values }.`);
    }
    if (g.key.length !== keyCount || g.values.length !== spec.select.length) {
      throw bad(`${where} has the wrong number of keys or values.`);
    }
    return {
      key: g.key.map((k, ki) => checkCanonicalValue(k, `${where}.key[${ki}]`)),
      values: g.values.map((v, vi) => checkAggregate(spec, v, vi, `${where}.values[${vi}]`)),
    };
  });
  for (let i = 1; i < groups.length; i++) {
    if (compareKeys((groups[i - 1] as PartialGroup).key, (groups[i] as PartialGroup).key) >= 0) {
      throw bad("Groups must be strictly sorted by key.", { index: i });
    }
  }
  return { version: PARTIAL_VERSION, query: expected, columns, groups };
}
