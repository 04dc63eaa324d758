import { checkAccountId, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import {
  type CaptureHoldCommand,
  checkIdempotencyKey,
  checkName,
  checkTimeMs,
  type ExpireHoldCommand,
  type PlaceHoldCommand,
  type ReleaseHoldCommand,
} from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { HoldState, LedgerState, Plan } from "../state.ts";
import {
  Deltas,
  requireAccount,
  requireFunds,
  requireHold,
  requireOpenHold,
  requireTransferable,
} from "./guards.ts";

/**
 * Holds lock a requester's funds for a job (system:escrow is their control account). A hold is
 * closed exactly once: captured (part or all; the rest returns to the payer in the same
 * posting), released, or expired once its time has passed.
 */
export interface PlaceHoldInput {
  readonly idempotencyKey: string;
  /** The caller's name for the hold, for example the job id. */
  readonly holdId: string;
  readonly from: string;
  readonly amount: AmountInput;
  /** After this time the hold can no longer be captured, only expired or released. */
  readonly expiresAtMs: number;
}

export interface CaptureHoldInput {
  readonly idempotencyKey: string;
  readonly holdId: string;
  readonly to: string;
  /** Default: the whole hold. The rest returns to the payer. */
  readonly amount?: AmountInput;
}

export interface CloseHoldInput {
  readonly idempotencyKey: string;
  readonly holdId: string;
}

export function placeHoldCommand(input: PlaceHoldInput, atMs: number): PlaceHoldCommand {
  const from = checkAccountId("from", input.from);
  requireTransferable("from", from);
  const expiresAtMs = checkTimeMs("expiresAtMs", input.expiresAtMs);
  if (expiresAtMs <= atMs) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `expiresAtMs (${expiresAtMs}) is not after now (${atMs}).`,
      {
        hint: "A hold must expire in the future: pass now plus the job's deadline.",
        details: { expiresAtMs, atMs },
      },
    );
  }
  return {
    kind: "placeHold",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    holdId: checkName("holdId", input.holdId),
    from,
    amount: positiveUnits("amount", input.amount),
    expiresAtMs,
  };
}

export function captureHoldCommand(input: CaptureHoldInput, atMs: number): CaptureHoldCommand {
  const to = checkAccountId("to", input.to);
  requireTransferable("to", to);
  return {
    kind: "captureHold",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    holdId: checkName("holdId", input.holdId),
    to,
    amount: input.amount === undefined ? null : positiveUnits("amount", input.amount),
  };
}

export function releaseHoldCommand(input: CloseHoldInput, atMs: number): ReleaseHoldCommand {
  return {
    kind: "releaseHold",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    holdId: checkName("holdId", input.holdId),
  };
}

export function expireHoldCommand(input: CloseHoldInput, atMs: number): ExpireHoldCommand {
  return {
    kind: "expireHold",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    holdId: checkName("holdId", input.holdId),
  };
}

export function planPlaceHold(command: PlaceHoldCommand, state: LedgerState, seq: number): Plan {
  const existing = state.hold(command.holdId);
  if (existing !== undefined) {
    throw ledgerError(
      "LEDGER_HOLD_EXISTS",
      `Hold ${command.holdId} already exists (${existing.status}).`,
      {
        hint: "Hold ids are unique; choose a new one, or retry with the original idempotency key.",
        details: { holdId: command.holdId, status: existing.status },
      },
    );
  }
  const from = requireAccount(state, "from", command.from);
  requireFunds(from, command.amount, `hold ${command.holdId}`);
  const hold: HoldState = {
    id: command.holdId,
    account: command.from,
    amount: command.amount,
    captured: 0n,
    status: "open",
    expiresAtMs: command.expiresAtMs,
    placedSeq: seq,
    closedSeq: null,
  };
  return {
    deltas: new Deltas().move(command.from, SYSTEM_ACCOUNTS.escrow, command.amount).map,
    holds: [hold],
  };
}

/** The amount to capture out of a hold: `requested` (null: all), never more than it holds. */
export function captureAmount(hold: HoldState, requested: bigint | null): bigint {
  const amount = requested ?? hold.amount;
  if (amount > hold.amount) {
    throw ledgerError(
      "LEDGER_CAPTURE_EXCEEDS_HOLD",
      `Capturing ${amount} exceeds hold ${hold.id} (${hold.amount}).`,
      {
        hint: "Capture at most the held amount; place a larger hold for larger jobs.",
        details: { holdId: hold.id, amount, held: hold.amount },
      },
    );
  }
  return amount;
}

export function planCaptureHold(
  command: CaptureHoldCommand,
  state: LedgerState,
  seq: number,
): Plan {
  const hold = requireHold(state, command.holdId);
  requireOpenHold(hold, command.atMs, true);
  requireAccount(state, "to", command.to);
  const amount = captureAmount(hold, command.amount);
  return {
    deltas: new Deltas()
      .move(SYSTEM_ACCOUNTS.escrow, command.to, amount)
      .move(SYSTEM_ACCOUNTS.escrow, hold.account, hold.amount - amount).map,
    holds: [{ ...hold, status: "captured", captured: amount, closedSeq: seq }],
  };
}

export function planReleaseHold(
  command: ReleaseHoldCommand,
  state: LedgerState,
  seq: number,
): Plan {
  const hold = requireHold(state, command.holdId);
  requireOpenHold(hold, command.atMs, false);
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.escrow, hold.account, hold.amount).map,
    holds: [{ ...hold, status: "released", closedSeq: seq }],
  };
}

export function planExpireHold(command: ExpireHoldCommand, state: LedgerState, seq: number): Plan {
  const hold = requireHold(state, command.holdId);
  requireOpenHold(hold, command.atMs, false);
  if (command.atMs < hold.expiresAtMs) {
    throw ledgerError(
      "LEDGER_HOLD_NOT_EXPIRED",
      `Hold ${hold.id} expires at ${hold.expiresAtMs}, not yet at ${command.atMs}.`,
      {
        hint: "Use releaseHold to return the funds early.",
        details: { holdId: hold.id, expiresAtMs: hold.expiresAtMs, atMs: command.atMs },
      },
    );
  }
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.escrow, hold.account, hold.amount).map,
    holds: [{ ...hold, status: "expired", closedSeq: seq }],
  };
}
