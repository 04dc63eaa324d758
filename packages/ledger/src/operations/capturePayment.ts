import { ANTI_MONOPOLY_FUND_BPS, splitPayment } from "@dpn/protocol";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import {
  type CapturePaymentCommand,
  checkBps,
  checkIdempotencyKey,
  checkName,
} from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas, requireHold, requireOpenHold } from "./guards.ts";
import { captureAmount } from "./holds.ts";

export interface CapturePaymentInput {
  readonly idempotencyKey: string;
  readonly holdId: string;
  /** The price of the verified work; default the whole hold. The rest returns to the payer. */
  readonly amount?: AmountInput;
  /** §4.2: the burn rate the burning controller set for this epoch. */
  readonly burnBps: bigint;
  /** §3.4: default 300n (3%). */
  readonly antiMonopolyFundBps?: bigint;
}

export function capturePaymentCommand(
  input: CapturePaymentInput,
  atMs: number,
): CapturePaymentCommand {
  const burnBps = checkBps("burnBps", input.burnBps);
  const antiMonopolyFundBps = checkBps(
    "antiMonopolyFundBps",
    input.antiMonopolyFundBps ?? ANTI_MONOPOLY_FUND_BPS,
  );
  if (burnBps + antiMonopolyFundBps > 10_000n) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `burnBps + antiMonopolyFundBps is ${burnBps + antiMonopolyFundBps} bps, above 100%.`,
      {
        hint: "Pass the burning controller's burnBps unchanged; the two shares must leave room for the reserve.",
        details: { burnBps, antiMonopolyFundBps },
      },
    );
  }
  return {
    kind: "capturePayment",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    holdId: checkName("holdId", input.holdId),
    amount: input.amount === undefined ? null : positiveUnits("amount", input.amount),
    burnBps,
    antiMonopolyFundBps,
  };
}

/**
 * Captures a job payment from its hold and splits it with the protocol's splitPayment
 * (§3.4, §4.3): burn sink, anti-monopoly fund, reserve pool. The three parts sum to the payment
 * exactly; what the hold held beyond the payment returns to the payer in the same posting.
 */
export function planCapturePayment(
  command: CapturePaymentCommand,
  state: LedgerState,
  seq: number,
): Plan {
  const hold = requireHold(state, command.holdId);
  requireOpenHold(hold, command.atMs, true);
  const payment = captureAmount(hold, command.amount);
  const split = splitPayment(payment, command.burnBps, command.antiMonopolyFundBps);
  return {
    deltas: new Deltas()
      .move(SYSTEM_ACCOUNTS.escrow, SYSTEM_ACCOUNTS.burn, split.burn)
      .move(SYSTEM_ACCOUNTS.escrow, SYSTEM_ACCOUNTS.antiMonopolyFund, split.antiMonopolyFund)
      .move(SYSTEM_ACCOUNTS.escrow, SYSTEM_ACCOUNTS.reservePool, split.reserve)
      .move(SYSTEM_ACCOUNTS.escrow, hold.account, hold.amount - payment).map,
    holds: [{ ...hold, status: "captured", captured: payment, closedSeq: seq }],
  };
}
