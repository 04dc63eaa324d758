import { type CodesOf, DpnError, type DpnErrorOptions, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of the ledger with their HTTP status and meaning (docs/errors.md). Programs
 * match on the code; people read the message and the hint. A code never changes meaning once
 * released: add a new one instead.
 */
export const LEDGER_ERRORS = errorTable({
  LEDGER_INVALID_AMOUNT: {
    status: 400,
    meaning: "An amount is not a positive integer of base units within the cap.",
  },
  LEDGER_INVALID_ACCOUNT: {
    status: 400,
    meaning: "An account id is malformed, or names a system account where a user's is needed.",
  },
  LEDGER_INVALID_INPUT: {
    status: 400,
    meaning: "A ledger command is malformed.",
  },
  LEDGER_INVALID_IDEMPOTENCY_KEY: {
    status: 400,
    meaning: "The idempotency key is empty or too long.",
  },
  LEDGER_INVALID_CURSOR: {
    status: 400,
    meaning: "A history cursor is not one the ledger gave out.",
  },
  LEDGER_UNKNOWN_ACCOUNT: {
    status: 404,
    meaning: "The account does not exist (it has never received anything).",
  },
  LEDGER_ACCOUNT_NOT_SPENDABLE: {
    status: 400,
    meaning: "The account cannot be debited by this operation.",
  },
  LEDGER_SAME_ACCOUNT: {
    status: 400,
    meaning: "A transfer names the same account on both sides.",
  },
  LEDGER_INSUFFICIENT_FUNDS: {
    status: 402,
    meaning: "The balance, holds excluded, is below the amount.",
  },
  LEDGER_IDEMPOTENCY_CONFLICT: {
    status: 409,
    meaning: "The idempotency key was used before for a different command.",
  },
  LEDGER_GENESIS_ALREADY_DONE: {
    status: 400,
    meaning: "Genesis was already issued with other figures.",
  },
  LEDGER_MINT_EXCEEDS_POOL: {
    status: 400,
    meaning: "The emission pool holds less than the reward to mint.",
  },
  LEDGER_RECEIPT_ALREADY_MINTED: {
    status: 400,
    meaning: "This work receipt was already paid.",
  },
  LEDGER_HOLD_EXISTS: {
    status: 400,
    meaning: "A hold with this id already exists.",
  },
  LEDGER_UNKNOWN_HOLD: {
    status: 400,
    meaning: "There is no hold with this id.",
  },
  LEDGER_HOLD_ALREADY_CAPTURED: {
    status: 400,
    meaning: "The hold was already captured.",
  },
  LEDGER_HOLD_ALREADY_RELEASED: {
    status: 400,
    meaning: "The hold was already released.",
  },
  LEDGER_HOLD_EXPIRED: {
    status: 400,
    meaning: "The hold has expired; it can only be released.",
  },
  LEDGER_HOLD_NOT_EXPIRED: {
    status: 400,
    meaning: "The hold has not expired yet, so it cannot be expired.",
  },
  LEDGER_CAPTURE_EXCEEDS_HOLD: {
    status: 400,
    meaning: "The capture is larger than what remains of the hold.",
  },
  LEDGER_INSUFFICIENT_STAKE: {
    status: 400,
    meaning: "The bonded stake is below the amount to unstake or slash.",
  },
  LEDGER_NOTHING_TO_WITHDRAW: {
    status: 400,
    meaning: "No unbonded stake is due for withdrawal yet.",
  },
  LEDGER_NOTHING_TO_REPLENISH: {
    status: 400,
    meaning:
      "Nothing to re-issue: nothing was burned since the last replenishment, or its recycled share (recycleBps) rounds to zero.",
  },
  LEDGER_DEPOSIT_ALREADY_CREDITED: {
    status: 409,
    meaning: "This deposit reference was already credited, with other figures.",
  },
  LEDGER_UNKNOWN_SNAPSHOT: {
    status: 400,
    meaning: "There is no snapshot of this epoch.",
  },
  LEDGER_SNAPSHOT_EXISTS: {
    status: 400,
    meaning: "A snapshot of this epoch already exists.",
  },
  LEDGER_OVERLOADED: {
    status: 503,
    meaning: "The ledger's commit queue is full; retry shortly.",
  },
  LEDGER_CLOSED: {
    status: 503,
    meaning: "The ledger is closed (the node is shutting down).",
  },
  LEDGER_STORAGE_FAILED: {
    status: 500,
    meaning: "The database failed to commit; nothing was applied.",
  },
  LEDGER_AUDIT_FAILED: {
    status: 500,
    meaning: "The audit found the ledger inconsistent; stop and investigate.",
  },
  LEDGER_INVARIANT_BROKEN: {
    status: 500,
    meaning: "A ledger invariant would break: a bug; nothing was persisted, stop the process.",
  },
});
export type LedgerErrorCode = keyof typeof LEDGER_ERRORS;
export const LEDGER_ERROR_CODES = Object.keys(LEDGER_ERRORS) as readonly LedgerErrorCode[];

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

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof LEDGER_ERRORS> {}
}
