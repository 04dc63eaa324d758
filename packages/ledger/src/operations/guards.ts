import { formatDpn } from "@dpn/protocol";
import { isTransferable } from "../accounts.ts";
import { type Asset, assetOf } from "../assets.ts";
import { ledgerError } from "../errors.ts";
import type { AccountState, HoldState, LedgerState } from "../state.ts";

/** Checks shared by the planners: each throws a teaching DpnError and changes nothing. */

export function requireAccount(state: LedgerState, field: string, id: string): AccountState {
  const account = state.account(id);
  if (account === undefined) {
    throw ledgerError("LEDGER_UNKNOWN_ACCOUNT", `${field} ${id} does not exist.`, {
      hint: `Open it first with ledger.openAccount("${id}"), or check the spelling.`,
      details: { field, account: id },
    });
  }
  return account;
}

export function requireTransferable(field: string, id: string): void {
  if (!isTransferable(id)) {
    throw ledgerError(
      "LEDGER_ACCOUNT_NOT_SPENDABLE",
      `${field} ${id} moves only through its own operation.`,
      {
        hint: "Use mint, burn, holds or staking for this system account; transfer works between owner, device and treasury accounts.",
        details: { field, account: id },
      },
    );
  }
}

const UNIT: Readonly<Record<Asset, string>> = { DPN: "DPN", USD: "USD", LP: "pool shares" };

export function requireFunds(account: AccountState, needed: bigint, purpose: string): void {
  if (account.balance < needed) {
    const unit = UNIT[assetOf(account.id)];
    throw ledgerError(
      "LEDGER_INSUFFICIENT_FUNDS",
      `${account.id} holds ${formatDpn(account.balance)} ${unit} but ${purpose} needs ${formatDpn(needed)} ${unit}.`,
      {
        hint: "Top the account up or lower the amount; nothing was changed.",
        details: { account: account.id, balance: account.balance, needed },
      },
    );
  }
}

export function requireHold(state: LedgerState, holdId: string): HoldState {
  const hold = state.hold(holdId);
  if (hold === undefined) {
    throw ledgerError("LEDGER_UNKNOWN_HOLD", `Hold ${holdId} does not exist.`, {
      hint: "Place it first with ledger.placeHold, or check the hold id.",
      details: { holdId },
    });
  }
  return hold;
}

/** An open hold, still open at `atMs` when `checkExpiry` (capture refuses an expired hold). */
export function requireOpenHold(hold: HoldState, atMs: number, checkExpiry: boolean): void {
  const details = { holdId: hold.id, status: hold.status, closedSeq: hold.closedSeq };
  if (hold.status === "captured") {
    throw ledgerError("LEDGER_HOLD_ALREADY_CAPTURED", `Hold ${hold.id} was already captured.`, {
      hint: "A hold is captured once; its remainder went back to the payer then. Place a new hold for more work.",
      details,
    });
  }
  if (hold.status === "released") {
    throw ledgerError("LEDGER_HOLD_ALREADY_RELEASED", `Hold ${hold.id} was already released.`, {
      hint: "Its funds went back to the payer. Place a new hold.",
      details,
    });
  }
  if (hold.status === "expired" || (checkExpiry && atMs >= hold.expiresAtMs)) {
    throw ledgerError("LEDGER_HOLD_EXPIRED", `Hold ${hold.id} expired at ${hold.expiresAtMs} ms.`, {
      hint: "Expire it with ledger.expireHold to return the funds, then place a new hold.",
      details: { ...details, expiresAtMs: hold.expiresAtMs, atMs },
    });
  }
}

/** Accumulates net balance changes of one posting set. */
export class Deltas {
  readonly map = new Map<string, bigint>();

  move(from: string, to: string, amount: bigint): this {
    if (amount === 0n) return this;
    this.add(from, -amount);
    this.add(to, amount);
    return this;
  }

  add(account: string, amount: bigint): this {
    this.map.set(account, (this.map.get(account) ?? 0n) + amount);
    return this;
  }
}
