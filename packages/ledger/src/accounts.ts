import { accountIn, assetOf, holderOf } from "./assets.ts";
import { ledgerError } from "./errors.ts";

/**
 * The account model. Every account id is `<kind>:<name>`:
 *
 * - `owner:<name>`: a person or organisation (requesters, stakers, treasuries of companies).
 * - `device:<name>`: a contributing device; minted rewards land here.
 * - `system:<name>`: the protocol's own accounts, listed in SYSTEM_ACCOUNTS. They exist from the
 *   moment the ledger is created and cannot be opened or closed by callers.
 *
 * Only `system:issuance` may be negative: it is the other side of every issuance (genesis and
 * emission replenishment), so that every posting set sums to zero and
 * `-balance(issuance) = total ever issued`.
 */
export const SYSTEM_ACCOUNTS = {
  /** The source of all DPN: its balance is minus the total ever issued. May be negative. */
  issuance: "system:issuance",
  /** §4.1: 55% of supply, paid out by `mint` against verified work; refilled from burns. */
  emissionPool: "system:emission-pool",
  /** Burned DPN accumulates here: out of circulation, counted by the audit. */
  burn: "system:burn",
  /** §4.3: capital that defends the peg; receives the payment remainder. */
  reservePool: "system:reserve-pool",
  /** §3.4: 3% of every payment. */
  antiMonopolyFund: "system:anti-monopoly-fund",
  /** §7.3: 10% of supply at genesis. */
  governanceFund: "system:governance-fund",
  liquidity: "system:liquidity",
  contributors: "system:contributors",
  /** Control account of all open holds: its balance equals the sum of their remaining amounts. */
  escrow: "system:escrow",
  /** Control account of all bonded stake. */
  stake: "system:stake",
  /** Control account of stake waiting out its unbonding period. */
  unbonding: "system:unbonding",
  /** Transfer fees. */
  fees: "system:fees",
  /** §4.5: the DPN side of the AMM pool; moves only through swaps and liquidity operations. */
  ammPool: "system:amm-pool",
} as const;

/**
 * The system accounts of the other two assets (assets.ts): the stable unit and the AMM's
 * liquidity shares. Each asset has its own issuance account, the only one of that asset that
 * may go negative, so each asset balances on its own.
 */
export const MARKET_ACCOUNTS = {
  /** Minus the stable units deposited from outside (and not withdrawn). */
  stableIssuance: "usd:system:issuance",
  /** The stable side of the AMM pool. */
  ammPoolStable: "usd:system:amm-pool",
  /** The reserve's stable holdings: what it buys DPN back with (§4.3). */
  reserveStable: "usd:system:reserve-pool",
  /** The stable side of the liquidity allocation (§4.1), deposited to seed the pool. */
  liquidityStable: "usd:system:liquidity",
  /** Minus the pool's total shares. */
  sharesIssuance: "lp:system:issuance",
  /** AMM_MINIMUM_LIQUIDITY shares locked forever by the first deposit. */
  sharesLocked: "lp:system:locked",
  /** Shares held by the liquidity allocation. */
  liquidityShares: "lp:system:liquidity",
  /** Shares held by the reserve. */
  reserveShares: "lp:system:reserve-pool",
} as const;

export type SystemAccountName = keyof typeof SYSTEM_ACCOUNTS;
export type SystemAccountId = (typeof SYSTEM_ACCOUNTS)[SystemAccountName];
export type AccountKind = "owner" | "device" | "system";

export type MarketAccountId = (typeof MARKET_ACCOUNTS)[keyof typeof MARKET_ACCOUNTS];

export const SYSTEM_ACCOUNT_IDS: readonly (SystemAccountId | MarketAccountId)[] = [
  ...Object.values(SYSTEM_ACCOUNTS),
  ...Object.values(MARKET_ACCOUNTS),
];

/**
 * System accounts that trade and provide liquidity in the AMM like an owner does: the reserve
 * (anti-decoupling, §4.3) and the liquidity allocation (§4.1). Their stable and share
 * counterparts exist from the start (MARKET_ACCOUNTS).
 */
export const MARKET_TREASURIES: readonly SystemAccountId[] = [
  SYSTEM_ACCOUNTS.reservePool,
  SYSTEM_ACCOUNTS.liquidity,
];

/**
 * Treasury accounts hold spendable protocol funds: governance may `transfer` out of them. The
 * other system accounts move only through their own operation (mint, burn, holds, stake), so a
 * plain transfer can never, say, drain escrow or un-burn tokens.
 */
export const TREASURY_ACCOUNTS: readonly SystemAccountId[] = [
  SYSTEM_ACCOUNTS.reservePool,
  SYSTEM_ACCOUNTS.antiMonopolyFund,
  SYSTEM_ACCOUNTS.governanceFund,
  SYSTEM_ACCOUNTS.liquidity,
  SYSTEM_ACCOUNTS.contributors,
  SYSTEM_ACCOUNTS.fees,
];

/**
 * 128 bytes: long enough for `device:` plus a hex SHA-256 fingerprint with room to spare, short
 * enough to keep index keys and Merkle leaves small (the leaf stores the length as uint16).
 */
export const MAX_ACCOUNT_ID_LENGTH = 128;

const USER_ACCOUNT_ID = /^(owner|device):[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** Validates an id a caller may open or name: `owner:<name>` or `device:<name>`. */
export function checkUserAccountId(field: string, id: unknown): string {
  if (typeof id !== "string" || id.length > MAX_ACCOUNT_ID_LENGTH || !USER_ACCOUNT_ID.test(id)) {
    throw ledgerError(
      "LEDGER_INVALID_ACCOUNT",
      `${field} ${describe(id)} is not a valid account id.`,
      {
        hint: `Use "owner:<name>" or "device:<name>" with letters, digits and . _ : @ - (at most ${MAX_ACCOUNT_ID_LENGTH} characters); system accounts are predefined.`,
        details: { field, value: typeof id === "string" ? id : String(id) },
      },
    );
  }
  return id;
}

/** Validates an id that may also name a system account (reads, transfer endpoints). */
export function checkAccountId(field: string, id: unknown): string {
  if (typeof id === "string" && isSystemAccount(id)) return id;
  return checkUserAccountId(field, id);
}

export function isSystemAccount(id: string): boolean {
  return (SYSTEM_ACCOUNT_IDS as readonly string[]).includes(id);
}

/** The kind of the holder, whatever the asset: `usd:owner:a` is an owner's account. */
export function accountKind(id: string): AccountKind {
  const holder = holderOf(id);
  if (holder.startsWith("owner:")) return "owner";
  if (holder.startsWith("device:")) return "device";
  return "system";
}

/** Only each asset's issuance account may go below zero (see SYSTEM_ACCOUNTS.issuance). */
export function mayGoNegative(id: string): boolean {
  return (
    id === SYSTEM_ACCOUNTS.issuance ||
    id === MARKET_ACCOUNTS.stableIssuance ||
    id === MARKET_ACCOUNTS.sharesIssuance
  );
}

/**
 * Validates an id for reads: any account of any asset (`owner:a`, `usd:owner:a`,
 * `lp:system:liquidity`). Writes name DPN accounts only; the market operations derive the
 * other assets' accounts themselves.
 */
export function checkReadableAccountId(field: string, id: unknown): string {
  if (typeof id === "string") {
    if (isSystemAccount(id)) return id;
    const asset = assetOf(id);
    if (asset !== "DPN") return accountIn(asset, checkAccountId(field, holderOf(id)));
  }
  return checkAccountId(field, id);
}

/** Accounts a plain `transfer` may debit or credit: users and treasuries. */
export function isTransferable(id: string): boolean {
  return !isSystemAccount(id) || (TREASURY_ACCOUNTS as readonly string[]).includes(id);
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
