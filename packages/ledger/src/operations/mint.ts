import { formatDpn } from "@dpn/protocol";
import { checkUserAccountId, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import { checkIdempotencyKey, checkName, type MintCommand } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas, requireAccount } from "./guards.ts";

export interface MintInput {
  readonly idempotencyKey: string;
  /** The device or owner account paid for the work. */
  readonly to: string;
  readonly amount: AmountInput;
  /** The verified work receipt this reward pays for; each receipt is paid at most once. */
  readonly receiptId: string;
}

export function mintCommand(input: MintInput, atMs: number): MintCommand {
  return {
    kind: "mint",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    to: checkUserAccountId("to", input.to),
    amount: positiveUnits("amount", input.amount),
    receiptId: checkName("receiptId", input.receiptId),
  };
}

/** Pays a work reward out of the emission pool; never more than the pool holds. */
export function planMint(command: MintCommand, state: LedgerState): Plan {
  requireAccount(state, "to", command.to);
  const mintedAt = state.receiptSeq(command.receiptId);
  if (mintedAt !== undefined) {
    throw ledgerError(
      "LEDGER_RECEIPT_ALREADY_MINTED",
      `Receipt ${command.receiptId} was already paid by posting ${mintedAt}.`,
      {
        hint: "Each verified work receipt earns one reward. Retry with the original idempotency key to get that posting back.",
        details: { receiptId: command.receiptId, seq: mintedAt },
      },
    );
  }
  const pool = requireAccount(state, "emission pool", SYSTEM_ACCOUNTS.emissionPool);
  if (pool.balance < command.amount) {
    throw ledgerError(
      "LEDGER_MINT_EXCEEDS_POOL",
      `Minting ${formatDpn(command.amount)} DPN exceeds the emission pool (${formatDpn(pool.balance)} DPN).`,
      {
        hint: "The pool refills only from burns: once per epoch, replenishEmission re-issues the governed share (supply.recycleBps) of what was burned since the last refill. Mint less, or after a refill that covers the amount.",
        details: { amount: command.amount, pool: pool.balance },
      },
    );
  }
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.emissionPool, command.to, command.amount).map,
    receiptId: command.receiptId,
  };
}
