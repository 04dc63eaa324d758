import { formatDpn } from "@dpn/protocol";
import {
  checkAccountId,
  checkUserAccountId,
  isTransferable,
  SYSTEM_ACCOUNTS,
} from "../accounts.ts";
import { type AmountInput, minUnits, positiveUnits } from "../amounts.ts";
import { checkIdempotencyKey, type SlashCommand } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan, UnbondingState } from "../state.ts";
import { Deltas, requireAccount } from "./guards.ts";

export interface SlashInput {
  readonly idempotencyKey: string;
  /** The staker being punished. */
  readonly account: string;
  readonly amount: AmountInput;
  /** Where the slashed stake goes: "system:burn" (default) or a treasury account. */
  readonly to?: string;
}

export function slashCommand(input: SlashInput, atMs: number): SlashCommand {
  const to = input.to === undefined ? SYSTEM_ACCOUNTS.burn : checkAccountId("to", input.to);
  if (to !== SYSTEM_ACCOUNTS.burn && !(isTransferable(to) && to.startsWith("system:"))) {
    throw ledgerError("LEDGER_INVALID_INPUT", `Slashed stake cannot go to ${to}.`, {
      hint: 'Send slashed stake to "system:burn" (the default) or to a treasury account such as "system:anti-monopoly-fund".',
      details: { to },
    });
  }
  return {
    kind: "slash",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    account: checkUserAccountId("account", input.account),
    amount: positiveUnits("amount", input.amount),
    to,
  };
}

/**
 * Takes `amount` from the staker's bonded stake first, then from stake still unbonding (newest
 * first: unbonding does not let a misbehaving device escape its punishment).
 */
export function planSlash(command: SlashCommand, state: LedgerState): Plan {
  requireAccount(state, "account", command.account);
  const bonded = state.stake(command.account)?.bonded ?? 0n;
  const pending = state.unbondings(command.account);
  const unbondingTotal = pending.reduce((sum, unbonding) => sum + unbonding.amount, 0n);
  if (bonded + unbondingTotal < command.amount) {
    throw ledgerError(
      "LEDGER_INSUFFICIENT_STAKE",
      `${command.account} has ${formatDpn(bonded + unbondingTotal)} DPN at stake, cannot slash ${formatDpn(command.amount)} DPN.`,
      {
        hint: "Slash at most the bonded plus unbonding stake (ledger.stakeOf shows both).",
        details: {
          account: command.account,
          bonded,
          unbonding: unbondingTotal,
          amount: command.amount,
        },
      },
    );
  }
  const fromBonded = minUnits(bonded, command.amount);
  let rest = command.amount - fromBonded;
  const changed: UnbondingState[] = [];
  for (const unbonding of [...pending].reverse()) {
    if (rest === 0n) break;
    const take = minUnits(unbonding.amount, rest);
    rest -= take;
    const amount = unbonding.amount - take;
    // A fully slashed unbonding is closed so that a later withdrawal never moves zero.
    changed.push({ ...unbonding, amount, status: amount === 0n ? "withdrawn" : "pending" });
  }
  const deltas = new Deltas()
    .move(SYSTEM_ACCOUNTS.stake, command.to, fromBonded)
    .move(SYSTEM_ACCOUNTS.unbonding, command.to, command.amount - fromBonded);
  return {
    deltas: deltas.map,
    stake: { account: command.account, bonded: bonded - fromBonded },
    unbondings: changed,
  };
}
