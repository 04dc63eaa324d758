/** JSON text with bigints as decimal strings (token amounts and basis points are bigints). */
export function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** The type of `jsonSafe(value)`: bigints become decimal strings, arrays lose `readonly`. */
export type JsonSafe<T> = T extends bigint
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? JsonSafe<U>[]
      : { -readonly [K in keyof T]: JsonSafe<T[K]> };

/** A JSON-ready copy of `value`, bigints as decimal strings. */
export function jsonSafe<T>(value: T): JsonSafe<T> {
  return JSON.parse(stringify(value)) as JsonSafe<T>;
}
