import { checkAccountId, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import { type BurnCommand, checkIdempotencyKey } from "../commands.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas, requireAccount, requireFunds, requireTransferable } from "./guards.ts";

export interface BurnInput {
  readonly idempotencyKey: string;
  readonly from: string;
  readonly amount: AmountInput;
}

export function burnCommand(input: BurnInput, atMs: number): BurnCommand {
  const from = checkAccountId("from", input.from);
  requireTransferable("from", from);
  return {
    kind: "burn",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    from,
    amount: positiveUnits("amount", input.amount),
  };
}

/** Moves DPN into the burn sink: out of the outstanding supply for good (until replenished). */
export function planBurn(command: BurnCommand, state: LedgerState): Plan {
  const from = requireAccount(state, "from", command.from);
  requireFunds(from, command.amount, "the burn");
  return { deltas: new Deltas().move(command.from, SYSTEM_ACCOUNTS.burn, command.amount).map };
}
