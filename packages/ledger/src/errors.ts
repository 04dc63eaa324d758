import { DpnError, type DpnErrorOptions } from "@dpn/protocol";

/**
 * Stable error codes of the ledger. Programs match on the code; people read the message and
 * the hint. A code never changes meaning once released: add a new one instead.
 */
export const LEDGER_ERROR_CODES = [
  "LEDGER_INVALID_AMOUNT",
  "LEDGER_INVALID_ACCOUNT",
  "LEDGER_INVALID_INPUT",
  "LEDGER_INVALID_IDEMPOTENCY_KEY",
  "LEDGER_INVALID_CURSOR",
  "LEDGER_UNKNOWN_ACCOUNT",
  "LEDGER_ACCOUNT_NOT_SPENDABLE",
  "LEDGER_SAME_ACCOUNT",
  "LEDGER_INSUFFICIENT_FUNDS",
  "LEDGER_IDEMPOTENCY_CONFLICT",
  "LEDGER_GENESIS_ALREADY_DONE",
  "LEDGER_MINT_EXCEEDS_POOL",
  "LEDGER_RECEIPT_ALREADY_MINTED",
  "LEDGER_HOLD_EXISTS",
  "LEDGER_UNKNOWN_HOLD",
  "LEDGER_HOLD_ALREADY_CAPTURED",
  "LEDGER_HOLD_ALREADY_RELEASED",
  "LEDGER_HOLD_EXPIRED",
  "LEDGER_HOLD_NOT_EXPIRED",
  "LEDGER_CAPTURE_EXCEEDS_HOLD",
  "LEDGER_INSUFFICIENT_STAKE",
  "LEDGER_NOTHING_TO_WITHDRAW",
  "LEDGER_NOTHING_TO_REPLENISH",
  "LEDGER_DEPOSIT_ALREADY_CREDITED",
  "LEDGER_UNKNOWN_SNAPSHOT",
  "LEDGER_SNAPSHOT_EXISTS",
  "LEDGER_OVERLOADED",
  "LEDGER_CLOSED",
  "LEDGER_STORAGE_FAILED",
  "LEDGER_AUDIT_FAILED",
  "LEDGER_INVARIANT_BROKEN",
] as const;
export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

export function ledgerError(
  code: LedgerErrorCode,
  message: string,
  options: DpnErrorOptions = {},
): DpnError {
  return new DpnError(code, message, options);
}

/**
 * TigerBeetle-style assertion: a broken invariant is a programmer error, never an operating
 * error. It throws before anything is persisted (the batch that hit it is rolled back) and
 * names what broke; the caller sees LEDGER_INVARIANT_BROKEN and should stop the process.
 */
export function invariant(
  condition: boolean,
  message: string,
  details?: Record<string, unknown>,
): asserts condition {
  if (!condition) {
    throw new DpnError("LEDGER_INVARIANT_BROKEN", `Ledger invariant broken: ${message}.`, {
      hint: "This is a bug in the ledger, not in your request. Stop the process, keep the database file, and run the audit (ledger.verify()).",
      ...(details === undefined ? {} : { details }),
    });
  }
}
