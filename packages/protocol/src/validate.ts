import { DpnError, type DpnErrorCode } from "./errors.ts";

/**
 * Input checks shared by every protocol function. A protocol function never returns NaN, an
 * infinity or a negative amount: it rejects the input that would produce one, with code
 * PROTOCOL_INVALID_INPUT and the name of the offending field.
 */
export const INVALID_INPUT = "PROTOCOL_INVALID_INPUT";

function fail(
  name: string,
  value: unknown,
  expected: string,
  code: DpnErrorCode = INVALID_INPUT,
): never {
  throw new DpnError(code, `${name} must be ${expected}, got ${describe(value)}.`, {
    hint: `Pass a valid ${name}.`,
    details: { field: name, value: typeof value === "bigint" ? value : String(value) },
  });
}

function describe(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

export function finite(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(name, value, "a finite number");
  return value;
}

export function nonNegative(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(name, value, "a finite number >= 0");
  }
  return value;
}

export function positive(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    fail(name, value, "a finite number > 0");
  }
  return value;
}

/** A share or probability in [0, 1]. */
export function unitInterval(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    fail(name, value, "a number in [0, 1]");
  }
  return value;
}

export function inRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail(name, value, `a number in [${min}, ${max}]`);
  }
  return value;
}

export function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) fail(name, value, "a whole number >= 0");
  return value;
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) fail(name, value, "a whole number >= 1");
  return value;
}

export function nonNegativeAmount(name: string, value: bigint): bigint {
  if (typeof value !== "bigint" || value < 0n) fail(name, value, "a bigint amount >= 0");
  return value;
}

export function positiveAmount(name: string, value: bigint): bigint {
  if (typeof value !== "bigint" || value <= 0n) fail(name, value, "a bigint amount > 0");
  return value;
}

export function oneOf<T extends string>(
  name: string,
  value: string,
  allowed: readonly T[],
  code: DpnErrorCode = INVALID_INPUT,
): T {
  if (!(allowed as readonly string[]).includes(value)) {
    fail(name, value, `one of ${allowed.join(", ")}`, code);
  }
  return value as T;
}

/**
 * "More than" for the whitepaper's thresholds (5%, 25%, 60%): a value within 1e-12 of the
 * threshold counts as on it, because float division misrounds exact edges (0.1575/0.15 − 1 is
 * 0.05000000000000004).
 */
export function exceeds(value: number, threshold: number): boolean {
  return value > threshold + 1e-12;
}

export interface ParamBound {
  readonly min: number | bigint;
  readonly max: number | bigint;
}

/**
 * Checks each bounded parameter of a module against its inclusive bounds; the value must have
 * the bound's type (number or bigint) and numbers must be finite.
 */
export function checkBounds<T extends object>(
  params: T,
  bounds: { readonly [K in keyof T]?: ParamBound },
  code: DpnErrorCode,
  label: string,
): T {
  for (const [key, bound] of Object.entries(bounds) as Array<[string, ParamBound]>) {
    const value = (params as Record<string, unknown>)[key];
    const ok =
      typeof value === typeof bound.min &&
      (typeof value !== "number" || Number.isFinite(value)) &&
      (value as number | bigint) >= bound.min &&
      (value as number | bigint) <= bound.max;
    if (!ok) {
      throw new DpnError(
        code,
        `${label} parameter ${key} = ${String(value)} is outside [${bound.min}, ${bound.max}].`,
        { hint: `Use a value in [${bound.min}, ${bound.max}].`, details: { field: key } },
      );
    }
  }
  return params;
}
