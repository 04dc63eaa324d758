import { createHash } from "node:crypto";

/**
 * The canonical value and JSON forms that replicas compare byte for byte. Every value carries its
 * kind, so `1` the integer, `1` the float and `"1"` the string never collide, and exact kinds stay
 * exact: integers and decimals are decimal strings (a sum of BIGINTs is an int128), floats are
 * JSON numbers in JavaScript's shortest round-trip form, instants are integer strings.
 */
export type CanonicalValue =
  | null
  | { readonly int: string }
  | { readonly dec: string }
  | { readonly float: number | "NaN" | "Infinity" | "-Infinity" }
  | { readonly str: string }
  | { readonly bool: boolean }
  /** Days since 1970-01-01. */
  | { readonly date: string }
  /** Microseconds since 1970-01-01 00:00:00 (TIMESTAMP without time zone). */
  | { readonly ts: string };

export function intValue(value: bigint): CanonicalValue {
  return { int: value.toString() };
}

export function floatValue(value: number): CanonicalValue {
  if (Number.isNaN(value)) return { float: "NaN" };
  if (value === Number.POSITIVE_INFINITY) return { float: "Infinity" };
  if (value === Number.NEGATIVE_INFINITY) return { float: "-Infinity" };
  // -0 and 0 compare equal and print alike in JSON; store 0 so the object is unique too.
  return { float: value === 0 ? 0 : value };
}

export function floatOf(value: { readonly float: number | string }): number {
  return typeof value.float === "number" ? value.float : Number(value.float);
}

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace: one byte string per
 * value. Refuses what JSON cannot carry exactly (undefined, non-finite numbers, bigints).
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not finite`);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Exact decimals

interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

function parseDecimal(text: string): Decimal {
  const match = DECIMAL_TEXT.exec(text);
  if (match === null) throw new TypeError(`not a decimal: ${text}`);
  const fraction = match[3] ?? "";
  const units = BigInt(`${match[2]}${fraction}`);
  return { units: match[1] === "-" ? -units : units, scale: fraction.length };
}

function rescale(d: Decimal, scale: number): bigint {
  return d.units * 10n ** BigInt(scale - d.scale);
}

function formatDecimal(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, "0");
  const text =
    scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** a + b exactly, at the larger scale of the two. */
export function addDecimals(a: string, b: string): string {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  return formatDecimal(rescale(x, scale) + rescale(y, scale), scale);
}

function compareDecimals(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function decimalToNumber(text: string): number {
  return Number(text);
}

// ---------------------------------------------------------------------------------------------
// Total order (for sorting groups and for min/max)

const KIND_RANK = { bool: 1, int: 2, dec: 3, float: 4, date: 5, ts: 6, str: 7 } as const;
type Kind = keyof typeof KIND_RANK;

export function kindOf(value: Exclude<CanonicalValue, null>): Kind {
  return Object.keys(value)[0] as Kind;
}

function compareBig(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareFloats(a: number, b: number): number {
  // NaN sorts above every number and equal to itself, as in DuckDB.
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A total order: NULL first, then by kind, then by value (numbers numerically, strings by UTF-16
 * code units, not by locale). Within one query every non-null value of a column has one kind,
 * because merge refuses partials whose column types differ.
 */
export function compareValues(a: CanonicalValue, b: CanonicalValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) return KIND_RANK[ka] - KIND_RANK[kb];
  if ("int" in a && "int" in b) return compareBig(a.int, b.int);
  if ("dec" in a && "dec" in b) return compareDecimals(a.dec, b.dec);
  if ("float" in a && "float" in b) return compareFloats(floatOf(a), floatOf(b));
  if ("date" in a && "date" in b) return compareBig(a.date, b.date);
  if ("ts" in a && "ts" in b) return compareBig(a.ts, b.ts);
  if ("bool" in a && "bool" in b) return Number(a.bool) - Number(b.bool);
  if ("str" in a && "str" in b) return a.str < b.str ? -1 : a.str > b.str ? 1 : 0;
  return 0;
}

export function compareKeys(a: readonly CanonicalValue[], b: readonly CanonicalValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i] ?? null, b[i] ?? null);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** a + b for sums: NULL is "no rows yet", so it is the identity. Kinds must match. */
export function addValues(a: CanonicalValue, b: CanonicalValue): CanonicalValue {
  if (a === null) return b;
  if (b === null) return a;
  if ("int" in a && "int" in b) return intValue(BigInt(a.int) + BigInt(b.int));
  if ("dec" in a && "dec" in b) return { dec: addDecimals(a.dec, b.dec) };
  if ("float" in a && "float" in b) return floatValue(floatOf(a) + floatOf(b));
  throw new TypeError(`cannot add ${kindOf(a)} and ${kindOf(b)}`);
}

/** The value as a JavaScript number (for avg and noise), or null. */
export function toNumber(value: CanonicalValue): number | null {
  if (value === null) return null;
  if ("int" in value) return Number(value.int);
  if ("dec" in value) return decimalToNumber(value.dec);
  if ("float" in value) return floatOf(value);
  throw new TypeError(`${kindOf(value)} is not numeric`);
}
