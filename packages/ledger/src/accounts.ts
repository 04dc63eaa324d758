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
} as const;

export type SystemAccountName = keyof typeof SYSTEM_ACCOUNTS;
export type SystemAccountId = (typeof SYSTEM_ACCOUNTS)[SystemAccountName];
export type AccountKind = "owner" | "device" | "system";

export const SYSTEM_ACCOUNT_IDS: readonly SystemAccountId[] = Object.values(SYSTEM_ACCOUNTS);

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

export function isSystemAccount(id: string): id is SystemAccountId {
  return (SYSTEM_ACCOUNT_IDS as readonly string[]).includes(id);
}

export function accountKind(id: string): AccountKind {
  if (id.startsWith("owner:")) return "owner";
  if (id.startsWith("device:")) return "device";
  return "system";
}

/** Only the issuance account may go below zero (see SYSTEM_ACCOUNTS.issuance). */
export function mayGoNegative(id: string): boolean {
  return id === SYSTEM_ACCOUNTS.issuance;
}

/** Accounts a plain `transfer` may debit or credit: users and treasuries. */
export function isTransferable(id: string): boolean {
  return !isSystemAccount(id) || (TREASURY_ACCOUNTS as readonly string[]).includes(id);
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
