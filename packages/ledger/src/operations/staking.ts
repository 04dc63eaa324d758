import { formatDpn } from "@dpn/protocol";
import { checkUserAccountId, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import {
  checkIdempotencyKey,
  type StakeCommand,
  type UnstakeCommand,
  type WithdrawUnbondedCommand,
} from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan, UnbondingState } from "../state.ts";
import { Deltas, requireAccount, requireFunds } from "./guards.ts";

/**
 * Staking: `stake` bonds funds (system:stake is the control account, the stakes table the
 * sub-ledger); `unstake` starts an unbonding of `unbondingMs` (system:unbonding); once it is
 * over, `withdrawUnbonded` returns everything due. Bonded and unbonding stake can be slashed.
 */
export interface StakeInput {
  readonly idempotencyKey: string;
  readonly account: string;
  readonly amount: AmountInput;
}

export interface WithdrawUnbondedInput {
  readonly idempotencyKey: string;
  readonly account: string;
}

/** 7 days: long enough to slash misbehaviour found by spot re-execution after the fact. */
export const DEFAULT_UNBONDING_MS = 7 * 24 * 60 * 60 * 1000;

export function stakeCommand(input: StakeInput, atMs: number): StakeCommand {
  return {
    kind: "stake",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    account: checkUserAccountId("account", input.account),
    amount: positiveUnits("amount", input.amount),
  };
}

export function unstakeCommand(
  input: StakeInput,
  atMs: number,
  unbondingMs: number,
): UnstakeCommand {
  return {
    kind: "unstake",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    account: checkUserAccountId("account", input.account),
    amount: positiveUnits("amount", input.amount),
    unbondingMs,
  };
}

export function withdrawUnbondedCommand(
  input: WithdrawUnbondedInput,
  atMs: number,
): WithdrawUnbondedCommand {
  return {
    kind: "withdrawUnbonded",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    account: checkUserAccountId("account", input.account),
  };
}

export function planStake(command: StakeCommand, state: LedgerState): Plan {
  const account = requireAccount(state, "account", command.account);
  requireFunds(account, command.amount, "the stake");
  const bonded = state.stake(command.account)?.bonded ?? 0n;
  return {
    deltas: new Deltas().move(command.account, SYSTEM_ACCOUNTS.stake, command.amount).map,
    stake: { account: command.account, bonded: bonded + command.amount },
  };
}

export function planUnstake(command: UnstakeCommand, state: LedgerState, seq: number): Plan {
  requireAccount(state, "account", command.account);
  const bonded = state.stake(command.account)?.bonded ?? 0n;
  if (bonded < command.amount) {
    throw ledgerError(
      "LEDGER_INSUFFICIENT_STAKE",
      `${command.account} has ${formatDpn(bonded)} DPN bonded, cannot unstake ${formatDpn(command.amount)} DPN.`,
      {
        hint: "Unstake at most the bonded amount.",
        details: { account: command.account, bonded, amount: command.amount },
      },
    );
  }
  const unbonding: UnbondingState = {
    id: seq,
    account: command.account,
    amount: command.amount,
    releaseAtMs: command.atMs + command.unbondingMs,
    status: "pending",
  };
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.stake, SYSTEM_ACCOUNTS.unbonding, command.amount).map,
    stake: { account: command.account, bonded: bonded - command.amount },
    unbondings: [unbonding],
  };
}

export function planWithdrawUnbonded(command: WithdrawUnbondedCommand, state: LedgerState): Plan {
  requireAccount(state, "account", command.account);
  const pending = state.unbondings(command.account);
  const due = pending.filter((unbonding) => unbonding.releaseAtMs <= command.atMs);
  if (due.length === 0) {
    const next = pending.reduce<number | null>(
      (min, u) => (min === null || u.releaseAtMs < min ? u.releaseAtMs : min),
      null,
    );
    throw ledgerError(
      "LEDGER_NOTHING_TO_WITHDRAW",
      `${command.account} has no unbonded stake due at ${command.atMs}.`,
      {
        hint:
          next === null
            ? "Unstake first; funds return after the unbonding period."
            : `The next unbonding completes at ${next} ms.`,
        details: { account: command.account, nextReleaseAtMs: next },
      },
    );
  }
  const total = due.reduce((sum, unbonding) => sum + unbonding.amount, 0n);
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.unbonding, command.account, total).map,
    unbondings: due.map((unbonding) => ({ ...unbonding, status: "withdrawn" as const })),
  };
}
