import type { AccountKind } from "./accounts.ts";
import type { Posting } from "./postings.ts";

/**
 * What a planner may read. A store provides it: SQLite loads rows lazily inside the batch's
 * write transaction; PostgreSQL preloads (and row-locks) everything the batch's commands name.
 * The batch executor layers the batch's own uncommitted changes on top (`batch.ts`).
 */
export interface AccountState {
  readonly id: string;
  readonly kind: AccountKind;
  readonly balance: bigint;
  readonly openedAtMs: number;
  readonly updatedAtMs: number;
  /** seq of the last posting that touched the account; 0 if none. */
  readonly lastSeq: number;
}

export type HoldStatus = "open" | "captured" | "released" | "expired";

export interface HoldState {
  readonly id: string;
  /** The payer: released and left-over funds return here. */
  readonly account: string;
  readonly amount: bigint;
  readonly captured: bigint;
  readonly status: HoldStatus;
  readonly expiresAtMs: number;
  readonly placedSeq: number;
  readonly closedSeq: number | null;
}

export interface StakeState {
  readonly account: string;
  readonly bonded: bigint;
}

export interface UnbondingState {
  /** The seq of the unstake posting that started it. */
  readonly id: number;
  readonly account: string;
  readonly amount: bigint;
  readonly releaseAtMs: number;
  readonly status: "pending" | "withdrawn";
}

/** Ledger-wide facts kept in the `meta` table. */
export interface MetaState {
  /** seq of the genesis posting; null before genesis. */
  readonly genesisSeq: number | null;
  /** Supply cap fixed at genesis (TOTAL_SUPPLY_CAP unless a test chose another); 0 before. */
  readonly cap: bigint;
  readonly genesisTotal: bigint;
  /** Total re-issued into the emission pool by replenishEmission. */
  readonly replenishedTotal: bigint;
  /** Burn sink balance already considered by replenishEmission. */
  readonly burnMark: bigint;
  /** The AMM's TWAP accumulator (protocol amm.ts): Σ spot price × elapsed ms. */
  readonly ammPriceCumulative: bigint;
  /** When the accumulator was last advanced; 0 before the pool's first operation. */
  readonly ammLastUpdateMs: number;
}

export const EMPTY_META: MetaState = {
  genesisSeq: null,
  cap: 0n,
  genesisTotal: 0n,
  replenishedTotal: 0n,
  burnMark: 0n,
  ammPriceCumulative: 0n,
  ammLastUpdateMs: 0,
};

/** A committed posting with its canonical content, for idempotent retries. */
export interface StoredPosting {
  readonly posting: Posting;
  readonly content: string;
}

export interface LedgerState {
  account(id: string): AccountState | undefined;
  hold(id: string): HoldState | undefined;
  stake(account: string): StakeState | undefined;
  /** Pending unbondings of the account, oldest first. */
  unbondings(account: string): readonly UnbondingState[];
  receiptSeq(receiptId: string): number | undefined;
  postingByKey(idempotencyKey: string): StoredPosting | undefined;
  meta(): MetaState;
}

/** What a planner returns: net balance changes plus the sub-ledger rows it changes. */
export interface Plan {
  readonly deltas: ReadonlyMap<string, bigint>;
  readonly holds?: readonly HoldState[];
  readonly stake?: StakeState;
  readonly unbondings?: readonly UnbondingState[];
  readonly meta?: MetaState;
  readonly receiptId?: string;
  /**
   * Accounts this posting opens before it applies its deltas: the stable and share accounts
   * a holder gets on first use of the market. Opening is idempotent.
   */
  readonly opens?: readonly string[];
}
