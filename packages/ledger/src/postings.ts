import { mayGoNegative } from "./accounts.ts";
import type { PostingKind } from "./commands.ts";
import { invariant } from "./errors.ts";

/** One line of a posting set: a signed change to one account's balance, in base units. */
export interface Entry {
  readonly account: string;
  readonly amount: bigint;
}

/**
 * A committed posting set. `seq` orders postings per account (and globally on SQLite);
 * `entries` are sorted by account id, non-zero, one per account, and sum to zero.
 */
export interface Posting {
  readonly seq: number;
  readonly idempotencyKey: string;
  readonly kind: PostingKind;
  readonly atMs: number;
  readonly entries: readonly Entry[];
  /** The canonical command content (see commandContent), parsed. */
  readonly command: Readonly<Record<string, string | number | null>>;
}

/**
 * Turns net balance changes into a posting set's entries and asserts double entry: at least two
 * accounts, no zero lines, the sum is exactly zero.
 */
export function balancedEntries(deltas: ReadonlyMap<string, bigint>): Entry[] {
  const entries: Entry[] = [];
  let sum = 0n;
  for (const [account, amount] of deltas) {
    if (amount === 0n) continue;
    entries.push({ account, amount });
    sum += amount;
  }
  entries.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  invariant(sum === 0n, "a posting set does not sum to zero", { sum });
  invariant(entries.length >= 2, "a posting set moves nothing", { entries: entries.length });
  return entries;
}

/** Asserts a balance is allowed: only the issuance account may be negative. */
export function assertBalanceAllowed(account: string, balance: bigint): void {
  invariant(balance >= 0n || mayGoNegative(account), "a balance would become negative", {
    account,
    balance,
  });
}

/** Entries as stored in the postings table: `[["owner:a","-5"],["owner:b","5"]]`. */
export function encodeEntries(entries: readonly Entry[]): string {
  return JSON.stringify(entries.map((entry) => [entry.account, entry.amount.toString()]));
}

export function decodeEntries(text: string): Entry[] {
  const raw: unknown = JSON.parse(text);
  invariant(Array.isArray(raw), "stored entries are not an array");
  return raw.map((pair: unknown) => {
    invariant(
      Array.isArray(pair) && typeof pair[0] === "string" && typeof pair[1] === "string",
      "a stored entry is malformed",
    );
    return { account: pair[0] as string, amount: BigInt(pair[1] as string) };
  });
}
