import { MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "./accounts.ts";
import { accountIn } from "./assets.ts";
import type { Command } from "./commands.ts";
import { GENESIS_ACCOUNTS } from "./operations/genesis.ts";
import { depositReceiptId } from "./operations/market.ts";
import type { HoldState } from "./state.ts";

/**
 * Everything a command may read, so a store that must lock before it reads (PostgreSQL) can
 * load and lock it all up front, in one global order. Two phases: the rows named by the command,
 * then the accounts named by the holds it touches (the payer a release returns funds to).
 * footprint.test.ts checks every planner against it with a state that refuses undeclared reads.
 */
export interface Footprint {
  readonly accounts: Set<string>;
  readonly holds: Set<string>;
  /** Accounts whose stake row and pending unbondings are read. */
  readonly stakes: Set<string>;
  readonly receipts: Set<string>;
  readonly idempotencyKeys: Set<string>;
  /** The meta row is read and changed (genesis, replenishment). */
  meta: boolean;
}

export function emptyFootprint(): Footprint {
  return {
    accounts: new Set(),
    holds: new Set(),
    stakes: new Set(),
    receipts: new Set(),
    idempotencyKeys: new Set(),
    meta: false,
  };
}

/** Phase 1: adds what the command names. */
export function addFootprint(fp: Footprint, command: Command): void {
  const accounts = (...ids: string[]): void => {
    for (const id of ids) fp.accounts.add(id);
  };
  if (command.kind === "openAccount") {
    accounts(command.account);
    return;
  }
  fp.idempotencyKeys.add(command.idempotencyKey);
  switch (command.kind) {
    case "genesis":
      fp.meta = true;
      accounts(SYSTEM_ACCOUNTS.issuance, ...Object.values(GENESIS_ACCOUNTS));
      return;
    case "mint":
      fp.receipts.add(command.receiptId);
      accounts(command.to, SYSTEM_ACCOUNTS.emissionPool);
      return;
    case "burn":
      accounts(command.from, SYSTEM_ACCOUNTS.burn);
      return;
    case "transfer":
      accounts(command.from, command.to, SYSTEM_ACCOUNTS.fees);
      return;
    case "placeHold":
      fp.holds.add(command.holdId);
      accounts(command.from, SYSTEM_ACCOUNTS.escrow);
      return;
    case "captureHold":
      fp.holds.add(command.holdId);
      accounts(command.to, SYSTEM_ACCOUNTS.escrow);
      return;
    case "capturePayment":
      fp.holds.add(command.holdId);
      accounts(
        SYSTEM_ACCOUNTS.escrow,
        SYSTEM_ACCOUNTS.burn,
        SYSTEM_ACCOUNTS.antiMonopolyFund,
        SYSTEM_ACCOUNTS.reservePool,
      );
      return;
    case "releaseHold":
    case "expireHold":
      fp.holds.add(command.holdId);
      accounts(SYSTEM_ACCOUNTS.escrow);
      return;
    case "stake":
    case "unstake":
    case "withdrawUnbonded":
      fp.stakes.add(command.account);
      accounts(command.account, SYSTEM_ACCOUNTS.stake, SYSTEM_ACCOUNTS.unbonding);
      return;
    case "slash":
      fp.stakes.add(command.account);
      accounts(command.account, command.to, SYSTEM_ACCOUNTS.stake, SYSTEM_ACCOUNTS.unbonding);
      return;
    case "replenishEmission":
      fp.meta = true;
      accounts(SYSTEM_ACCOUNTS.issuance, SYSTEM_ACCOUNTS.emissionPool, SYSTEM_ACCOUNTS.burn);
      return;
    case "depositStable":
      fp.receipts.add(depositReceiptId(command.reference));
      accounts(command.to, accountIn("USD", command.to), MARKET_ACCOUNTS.stableIssuance);
      return;
    case "withdrawStable":
      accounts(command.from, accountIn("USD", command.from), MARKET_ACCOUNTS.stableIssuance);
      return;
    case "swap":
    case "addLiquidity":
    case "removeLiquidity": {
      // The pool's accumulator is in the meta row, so pool operations serialise on it.
      fp.meta = true;
      const holder = command.kind === "swap" ? command.trader : command.provider;
      accounts(
        holder,
        accountIn("USD", holder),
        accountIn("LP", holder),
        SYSTEM_ACCOUNTS.ammPool,
        MARKET_ACCOUNTS.ammPoolStable,
        MARKET_ACCOUNTS.sharesIssuance,
        MARKET_ACCOUNTS.sharesLocked,
      );
      return;
    }
  }
}

/** Phase 2: the payers of the holds that phase 1 loaded. */
export function addHoldAccounts(fp: Footprint, holds: Iterable<HoldState>): void {
  for (const hold of holds) fp.accounts.add(hold.account);
}
