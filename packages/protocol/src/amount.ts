import { DpnError } from "./errors.ts";
import { finite, nonNegativeAmount } from "./validate.ts";

/**
 * Token amounts (docs/protocol.md §Units). DPN has 18 decimals like an ERC-20: every amount in
 * the protocol is a `bigint` count of base units ("wei"). Floating point is used only for model
 * quantities (rates, factors, shares) and is turned into base units at exactly one place,
 * `dpnFromNumber`, which rounds toward zero.
 */
export const DECIMALS = 18;
export const ONE_DPN = 10n ** 18n;
/** Amounts must fit an EVM uint256 with headroom for sums: 2^255 - 1 (docs/protocol.md §Units). */
export const MAX_AMOUNT = 2n ** 255n - 1n;
export const BPS_DENOMINATOR = 10_000n;

export const AMOUNT_INVALID = "AMOUNT_INVALID";
export const AMOUNT_TOO_PRECISE = "AMOUNT_TOO_PRECISE";
export const AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE";

const DECIMAL_AMOUNT = /^(\d+)(?:\.(\d+))?$/;

/** Parses a decimal DPN string ("12.5") into base units, exactly. */
export function parseDpn(text: string): bigint {
  const match = DECIMAL_AMOUNT.exec(text.trim());
  if (match === null) {
    throw new DpnError(AMOUNT_INVALID, `"${text}" is not a DPN amount.`, {
      hint: 'Write a plain decimal number such as "12" or "0.125", without sign or exponent.',
      details: { value: text },
    });
  }
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > DECIMALS) {
    throw new DpnError(AMOUNT_TOO_PRECISE, `"${text}" has more than ${DECIMALS} decimals.`, {
      hint: `DPN has ${DECIMALS} decimals; round the amount to at most ${DECIMALS} places.`,
      details: { value: text, decimals: fraction.length },
    });
  }
  const units = BigInt(whole) * ONE_DPN + BigInt(fraction.padEnd(DECIMALS, "0") || "0");
  return checkAmount("amount", units);
}

/** Formats base units as a decimal DPN string, trimming trailing zeros ("12.5"). */
export function formatDpn(units: bigint, maxDecimals: number = DECIMALS): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / ONE_DPN;
  let fraction = (abs % ONE_DPN).toString().padStart(DECIMALS, "0").slice(0, maxDecimals);
  fraction = fraction.replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction === "" ? "" : `.${fraction}`}`;
}

/** Rejects amounts that are negative or beyond MAX_AMOUNT. */
export function checkAmount(name: string, units: bigint): bigint {
  nonNegativeAmount(name, units);
  if (units > MAX_AMOUNT) {
    throw new DpnError(AMOUNT_OUT_OF_RANGE, `${name} exceeds the largest amount, 2^255 - 1.`, {
      hint: "Amounts are base units (10^-18 DPN); check that the value was not scaled twice.",
      details: { field: name, value: units },
    });
  }
  return units;
}

/**
 * The single rounding point from model quantities to base units: floor(dpn * 10^18), toward
 * zero. Rounding down means the protocol never pays or mints more than the formula says.
 */
export function dpnFromNumber(dpn: number): bigint {
  finite("dpn", dpn);
  if (dpn < 0) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", `dpn must be >= 0, got ${dpn}.`, {
      hint: "A model quantity that becomes an amount must be non-negative.",
      details: { field: "dpn", value: String(dpn) },
    });
  }
  return checkAmount("dpn", BigInt(Math.floor(dpn * 1e18)));
}

/** Base units as a model quantity (DPN, as a float). Loses precision below ~1e-16 relative. */
export function dpnToNumber(units: bigint): number {
  return Number(units) / 1e18;
}

/** floor(amount * numerator / denominator) in exact integer arithmetic. */
export function mulDiv(amount: bigint, numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "denominator must be > 0.", {
      details: { denominator },
    });
  }
  return (amount * numerator) / denominator;
}

/** floor(amount * bps / 10 000): a share expressed in basis points. */
export function shareBps(amount: bigint, bps: bigint): bigint {
  return mulDiv(amount, bps, BPS_DENOMINATOR);
}

/** Integer square root, floor(sqrt(n)), by Newton's method. Used by the AMM's first deposit. */
export function isqrt(n: bigint): bigint {
  nonNegativeAmount("n", n);
  if (n < 2n) return n;
  // Start just above the root (the float estimate, widened past its rounding error): Newton's
  // iteration then decreases monotonically to floor(sqrt(n)).
  let x = BigInt(Math.ceil(Math.sqrt(Number(n)) * (1 + 1e-12))) + 1n;
  let y = (x + n / x) >> 1n;
  while (y < x) {
    x = y;
    y = (x + n / x) >> 1n;
  }
  return x;
}
