import { checkAmount, isDpnError, parseDpn } from "@dpn/protocol";
import { ledgerError } from "./errors.ts";

/**
 * An amount as callers give it: `bigint` base units (10^-18 DPN), or a decimal DPN string
 * such as "12.5" (parsed exactly, at most 18 decimals).
 */
export type AmountInput = bigint | string;

/** Validates a strictly positive amount in base units; every failure is LEDGER_INVALID_AMOUNT. */
export function positiveUnits(field: string, input: AmountInput): bigint {
  const units = toUnits(field, input);
  if (units === 0n) {
    throw ledgerError("LEDGER_INVALID_AMOUNT", `${field} is zero.`, {
      hint: "Ledger operations move a positive amount; skip the call when there is nothing to move.",
      details: { field, value: units },
    });
  }
  return units;
}

/** Validates an amount >= 0 in base units. */
export function toUnits(field: string, input: AmountInput): bigint {
  if (typeof input === "string") {
    try {
      return parseDpn(input);
    } catch (error) {
      throw wrap(field, input, error);
    }
  }
  if (typeof input !== "bigint") {
    throw ledgerError(
      "LEDGER_INVALID_AMOUNT",
      `${field} must be a bigint or a decimal string, got ${typeof input}.`,
      {
        hint: 'Pass base units as a bigint (10n ** 18n is 1 DPN) or a DPN string such as "1.5"; never a float.',
        details: { field, reason: "AMOUNT_INVALID" },
      },
    );
  }
  try {
    return checkAmount(field, input);
  } catch (error) {
    throw wrap(field, input, error);
  }
}

function wrap(field: string, input: AmountInput, error: unknown): Error {
  if (!isDpnError(error)) return error instanceof Error ? error : new Error(String(error));
  return ledgerError(
    "LEDGER_INVALID_AMOUNT",
    `${field} is not a valid amount: ${error.shortMessage}`,
    {
      hint:
        error.hint ??
        "Amounts are non-negative base units below 2^255, or DPN strings with at most 18 decimals.",
      details: {
        field,
        value: typeof input === "bigint" ? input : String(input),
        reason: error.code,
      },
      cause: error,
    },
  );
}

/** The smaller of two amounts (Math.min does not take bigints). */
export function minUnits(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
