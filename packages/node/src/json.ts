/** JSON text with bigints as decimal strings (token amounts and basis points are bigints). */
export function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** A JSON-ready copy of `value`, bigints as decimal strings. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(stringify(value));
}
