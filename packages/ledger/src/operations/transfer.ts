import { checkAccountId, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits, toUnits } from "../amounts.ts";
import { checkIdempotencyKey, type TransferCommand } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas, requireAccount, requireFunds, requireTransferable } from "./guards.ts";

export interface TransferInput {
  readonly idempotencyKey: string;
  readonly from: string;
  readonly to: string;
  readonly amount: AmountInput;
  /** Paid by `from` on top of `amount`, to system:fees. Default 0. */
  readonly fee?: AmountInput;
}

export function transferCommand(input: TransferInput, atMs: number): TransferCommand {
  const from = checkAccountId("from", input.from);
  const to = checkAccountId("to", input.to);
  requireTransferable("from", from);
  requireTransferable("to", to);
  if (from === to) {
    throw ledgerError("LEDGER_SAME_ACCOUNT", `A transfer from ${from} to itself moves nothing.`, {
      hint: "Check the destination account.",
      details: { from, to },
    });
  }
  return {
    kind: "transfer",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    from,
    to,
    amount: positiveUnits("amount", input.amount),
    fee: input.fee === undefined ? 0n : toUnits("fee", input.fee),
  };
}

export function planTransfer(command: TransferCommand, state: LedgerState): Plan {
  const from = requireAccount(state, "from", command.from);
  requireAccount(state, "to", command.to);
  requireFunds(from, command.amount + command.fee, "the transfer and its fee");
  return {
    deltas: new Deltas()
      .move(command.from, command.to, command.amount)
      .move(command.from, SYSTEM_ACCOUNTS.fees, command.fee).map,
  };
}
