import {
  type AmmParams,
  DEFAULT_AMM_PARAMS,
  quoteSwap,
  type SwapQuote,
  type SwapSide,
  spotPrice,
  validateAmmParams,
} from "@dpn/protocol";
import type { Kysely } from "kysely";
import {
  checkReadableAccountId,
  checkUserAccountId,
  MARKET_ACCOUNTS,
  SYSTEM_ACCOUNTS,
} from "./accounts.ts";
import { accountIn } from "./assets.ts";
import { type AuditReport, auditLedger, type SupplyReport } from "./audit.ts";
import type { Command } from "./commands.ts";
import { checkName, checkTimeMs, checkWholeNumber } from "./commands.ts";
import { invariant, ledgerError } from "./errors.ts";
import { type BalanceProof, merkleProof } from "./merkle.ts";
import { type BurnInput, burnCommand } from "./operations/burn.ts";
import { type CapturePaymentInput, capturePaymentCommand } from "./operations/capturePayment.ts";
import { type GenesisInput, genesisCommand } from "./operations/genesis.ts";
import {
  type CaptureHoldInput,
  type CloseHoldInput,
  captureHoldCommand,
  expireHoldCommand,
  type PlaceHoldInput,
  placeHoldCommand,
  releaseHoldCommand,
} from "./operations/holds.ts";
import {
  type AddLiquidityInput,
  addLiquidityCommand,
  type DepositStableInput,
  depositStableCommand,
  poolFromState,
  type RemoveLiquidityInput,
  removeLiquidityCommand,
  type SwapInput,
  swapCommand,
  type WithdrawStableInput,
  withdrawStableCommand,
} from "./operations/market.ts";
import { type MintInput, mintCommand } from "./operations/mint.ts";
import { type ReplenishEmissionInput, replenishEmissionCommand } from "./operations/replenish.ts";
import { type SlashInput, slashCommand } from "./operations/slash.ts";
import {
  DEFAULT_UNBONDING_MS,
  type StakeInput,
  stakeCommand,
  unstakeCommand,
  type WithdrawUnbondedInput,
  withdrawUnbondedCommand,
} from "./operations/staking.ts";
import { type TransferInput, transferCommand } from "./operations/transfer.ts";
import type { Posting } from "./postings.ts";
import type { SnapshotRecord } from "./snapshot.ts";
import type { AccountState, HoldState, LedgerState, MetaState, UnbondingState } from "./state.ts";
import * as q from "./stores/queries.ts";
import {
  accountFromRow,
  holdFromRow,
  metaFromRows,
  postingFromRow,
  unbondingFromRow,
} from "./stores/rows.ts";
import type { LedgerDatabase, SnapshotsTable } from "./stores/schema.ts";
import type { LedgerStore } from "./stores/store.ts";

export interface LedgerOptions {
  readonly store: LedgerStore;
  /** Where "now" comes from when an operation does not pass `nowMs`. Default Date.now. */
  readonly clock?: () => number;
  /** Unbonding period of unstaked funds. Default DEFAULT_UNBONDING_MS (7 days). */
  readonly unbondingMs?: number;
  /** Run the audit before returning (default true); a failed audit refuses to open. */
  readonly verifyOnOpen?: boolean;
  /** The AMM's governed parameters (fee, slippage guard). Default DEFAULT_AMM_PARAMS. */
  readonly amm?: AmmParams;
}

/** The AMM pool as the ledger holds it (docs/protocol.md §AMM). */
export interface PoolView {
  readonly reserveDpn: bigint;
  readonly reserveStable: bigint;
  /** All shares, the AMM_MINIMUM_LIQUIDITY locked ones included. */
  readonly totalShares: bigint;
  /** Stable per DPN × 10^18; null while the pool is empty. */
  readonly spotPrice: bigint | null;
  readonly priceCumulative: bigint;
  readonly lastUpdateMs: number;
  readonly params: AmmParams;
}

/** What a market posting did, read back from its entries. */
export interface MarketResult {
  readonly posting: Posting;
  /** Signed changes of the holder's DPN, stable and share balances. */
  readonly dpn: bigint;
  readonly stable: bigint;
  readonly shares: bigint;
}

/** Every write accepts `nowMs`: the caller's time for the operation (default: the clock). */
export interface At {
  readonly nowMs?: number;
}

export interface HistoryEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: Posting["kind"];
  readonly idempotencyKey: string;
  /** Signed change of this account's balance. */
  readonly amount: bigint;
  readonly balanceAfter: bigint;
}

export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  /** Pass to the next call to continue; null when there is nothing older. */
  readonly nextCursor: string | null;
}

export interface PaymentCapture {
  readonly posting: Posting;
  readonly burned: bigint;
  readonly antiMonopolyFund: bigint;
  readonly reserve: bigint;
  /** What went back to the payer. */
  readonly released: bigint;
}

export interface StakePosition {
  readonly account: string;
  readonly bonded: bigint;
  readonly unbonding: readonly UnbondingState[];
}

/** 1,000 entries per history page: one page stays a small, fast, bounded response. */
export const MAX_HISTORY_PAGE = 1_000;
export const DEFAULT_HISTORY_PAGE = 100;
const CURSOR = /^h1\.(\d{1,16})$/;

/**
 * Opens a ledger on a store: migrates the schema, audits it (unless told not to) and returns
 * the API. Every write is one balanced posting set, durable when its promise resolves.
 */
export async function openLedger(options: LedgerOptions): Promise<Ledger> {
  await options.store.open();
  const ledger = new Ledger(options);
  if (options.verifyOnOpen ?? true) {
    const report = await ledger.verify();
    if (!report.ok) {
      await options.store.close();
      throw ledgerError(
        "LEDGER_AUDIT_FAILED",
        "The ledger failed its start-up audit; it was not opened.",
        {
          hint: "Do not write to it. Inspect the failed checks in details.checks and restore from a backup if needed.",
          details: { checks: report.checks.filter((c) => !c.ok) },
        },
      );
    }
  }
  return ledger;
}

export class Ledger {
  readonly store: LedgerStore;
  private readonly clock: () => number;
  private readonly unbondingMs: number;
  readonly ammParams: AmmParams;

  constructor(options: LedgerOptions) {
    this.store = options.store;
    this.ammParams = validateAmmParams(options.amm ?? DEFAULT_AMM_PARAMS);
    this.clock = options.clock ?? Date.now;
    this.unbondingMs = checkTimeMs("unbondingMs", options.unbondingMs ?? DEFAULT_UNBONDING_MS);
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Opens an owner or device account (idempotent: opening it again returns it). */
  async openAccount(id: string, at: At = {}): Promise<AccountState> {
    const command: Command = {
      kind: "openAccount",
      account: checkUserAccountId("account", id),
      atMs: this.now(at),
    };
    return (await this.store.execute(command)) as AccountState;
  }

  /** Issues the supply cap once, per genesisAllocation (55% to the emission pool). */
  genesis(input: GenesisInput & At): Promise<Posting> {
    return this.post(() => genesisCommand(input, this.now(input)));
  }

  /** Pays a verified work receipt from the emission pool. */
  mint(input: MintInput & At): Promise<Posting> {
    return this.post(() => mintCommand(input, this.now(input)));
  }

  burn(input: BurnInput & At): Promise<Posting> {
    return this.post(() => burnCommand(input, this.now(input)));
  }

  transfer(input: TransferInput & At): Promise<Posting> {
    return this.post(() => transferCommand(input, this.now(input)));
  }

  placeHold(input: PlaceHoldInput & At): Promise<Posting> {
    return this.post(() => placeHoldCommand(input, this.now(input)));
  }

  captureHold(input: CaptureHoldInput & At): Promise<Posting> {
    return this.post(() => captureHoldCommand(input, this.now(input)));
  }

  /** Captures a job payment from its hold: burn / anti-monopoly fund / reserve (splitPayment). */
  async capturePayment(input: CapturePaymentInput & At): Promise<PaymentCapture> {
    const posting = await this.post(() => capturePaymentCommand(input, this.now(input)));
    const credit = (account: string): bigint =>
      posting.entries.find((e) => e.account === account)?.amount ?? 0n;
    const payer = posting.entries.find((e) => e.amount > 0n && !e.account.startsWith("system:"));
    return {
      posting,
      burned: credit(SYSTEM_ACCOUNTS.burn),
      antiMonopolyFund: credit(SYSTEM_ACCOUNTS.antiMonopolyFund),
      reserve: credit(SYSTEM_ACCOUNTS.reservePool),
      released: payer?.amount ?? 0n,
    };
  }

  releaseHold(input: CloseHoldInput & At): Promise<Posting> {
    return this.post(() => releaseHoldCommand(input, this.now(input)));
  }

  expireHold(input: CloseHoldInput & At): Promise<Posting> {
    return this.post(() => expireHoldCommand(input, this.now(input)));
  }

  stake(input: StakeInput & At): Promise<Posting> {
    return this.post(() => stakeCommand(input, this.now(input)));
  }

  unstake(input: StakeInput & At): Promise<Posting> {
    return this.post(() => unstakeCommand(input, this.now(input), this.unbondingMs));
  }

  withdrawUnbonded(input: WithdrawUnbondedInput & At): Promise<Posting> {
    return this.post(() => withdrawUnbondedCommand(input, this.now(input)));
  }

  slash(input: SlashInput & At): Promise<Posting> {
    return this.post(() => slashCommand(input, this.now(input)));
  }

  /** Once per epoch: re-issues burned supply into the emission pool (emissionReplenishment). */
  replenishEmission(input: ReplenishEmissionInput & At): Promise<Posting> {
    return this.post(() => replenishEmissionCommand(input, this.now(input)));
  }

  /** Credits stable units deposited from outside, once per `reference` (docs/protocol.md §AMM). */
  depositStable(input: DepositStableInput & At): Promise<Posting> {
    return this.post(() => depositStableCommand(input, this.now(input)));
  }

  withdrawStable(input: WithdrawStableInput & At): Promise<Posting> {
    return this.post(() => withdrawStableCommand(input, this.now(input)));
  }

  /** Swaps through the AMM pool; refused beyond the slippage guard (§4.5: 0.7% by default). */
  async swap(input: SwapInput & At): Promise<MarketResult> {
    const posting = await this.post(() => swapCommand(input, this.now(input), this.ammParams));
    return marketResult(posting, (posting.command as { trader: string }).trader);
  }

  async addLiquidity(input: AddLiquidityInput & At): Promise<MarketResult> {
    const posting = await this.post(() =>
      addLiquidityCommand(input, this.now(input), this.ammParams),
    );
    return marketResult(posting, (posting.command as { provider: string }).provider);
  }

  async removeLiquidity(input: RemoveLiquidityInput & At): Promise<MarketResult> {
    const posting = await this.post(() =>
      removeLiquidityCommand(input, this.now(input), this.ammParams),
    );
    return marketResult(posting, (posting.command as { provider: string }).provider);
  }

  /** Commits every account's balance as epoch `epoch` under a Merkle root. */
  async snapshot(input: { readonly epoch: number } & At): Promise<SnapshotRecord> {
    return this.store.takeSnapshot(checkWholeNumber("epoch", input.epoch), this.now(input));
  }

  // ---- reads -------------------------------------------------------------------------------

  /** Any account of any asset: `owner:a`, `usd:owner:a`, `lp:owner:a`. */
  async account(id: string): Promise<AccountState | undefined> {
    const account = checkReadableAccountId("account", id);
    const row = await q.selectAccounts(this.db(), [account]).executeTakeFirst();
    return row === undefined ? undefined : accountFromRow(row);
  }

  async balance(id: string): Promise<bigint> {
    return (await this.requireAccount(id)).balance;
  }

  /**
   * The balance as of a point: after posting `seq` (inclusive), or at time `atMs` (the last
   * posting recorded at or before it). 0 before the account's first posting.
   */
  async balanceAt(
    id: string,
    at: { readonly seq: number } | { readonly atMs: number },
  ): Promise<bigint> {
    const account = (await this.requireAccount(id)).id;
    const row =
      "seq" in at
        ? await q
            .selectBalanceAtSeq(this.db(), account, checkWholeNumber("seq", at.seq))
            .executeTakeFirst()
        : await q
            .selectBalanceAtMs(this.db(), account, checkTimeMs("atMs", at.atMs))
            .executeTakeFirst();
    return row === undefined ? 0n : BigInt(row.balance_after);
  }

  /** An account's entries, newest first, `limit` per page (default 100, at most 1,000). */
  async history(
    id: string,
    page: { readonly limit?: number; readonly cursor?: string | null } = {},
  ): Promise<HistoryPage> {
    const account = (await this.requireAccount(id)).id;
    const limit = page.limit ?? DEFAULT_HISTORY_PAGE;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw ledgerError(
        "LEDGER_INVALID_INPUT",
        `limit must be a whole number in [1, ${MAX_HISTORY_PAGE}], got ${limit}.`,
        {
          hint: "Page through long histories with nextCursor.",
          details: { limit },
        },
      );
    }
    const beforeSeq =
      page.cursor === undefined || page.cursor === null
        ? Number.MAX_SAFE_INTEGER
        : decodeCursor(page.cursor);
    const rows = await q.selectHistory(this.db(), account, beforeSeq, limit + 1).execute();
    const entries = rows.slice(0, limit).map((row) => ({
      seq: Number(row.seq),
      atMs: Number(row.at_ms),
      kind: row.kind as Posting["kind"],
      idempotencyKey: row.idempotency_key,
      amount: BigInt(row.amount),
      balanceAfter: BigInt(row.balance_after),
    }));
    const last = entries[entries.length - 1];
    return {
      entries,
      nextCursor: rows.length > limit && last !== undefined ? `h1.${last.seq}` : null,
    };
  }

  async posting(seq: number): Promise<Posting | undefined> {
    const row = await q
      .selectPostingBySeq(this.db(), checkWholeNumber("seq", seq))
      .executeTakeFirst();
    return row === undefined ? undefined : postingFromRow(row).posting;
  }

  async postingByKey(idempotencyKey: string): Promise<Posting | undefined> {
    const row = await q
      .selectPostingsByKey(this.db(), [checkName("idempotencyKey", idempotencyKey)])
      .executeTakeFirst();
    return row === undefined ? undefined : postingFromRow(row).posting;
  }

  /** Postings in seq order after `afterSeq`, at most `limit` (<= 1,000). */
  async postings(
    page: { readonly afterSeq?: number; readonly limit?: number } = {},
  ): Promise<Posting[]> {
    const limit = Math.min(page.limit ?? DEFAULT_HISTORY_PAGE, MAX_HISTORY_PAGE);
    const rows = await q
      .selectPostingsAfter(this.db(), checkWholeNumber("afterSeq", page.afterSeq ?? 0), limit)
      .execute();
    return rows.map((row) => postingFromRow(row).posting);
  }

  async hold(holdId: string): Promise<HoldState | undefined> {
    const row = await q.selectHolds(this.db(), [checkName("holdId", holdId)]).executeTakeFirst();
    return row === undefined ? undefined : holdFromRow(row);
  }

  /** The account's open holds, oldest first (at most 1,000: what a wallet page shows). */
  async openHolds(account: string): Promise<readonly HoldState[]> {
    const id = checkReadableAccountId("account", account);
    const rows = await this.db()
      .selectFrom("holds")
      .selectAll()
      .where("account_id", "=", id)
      .where("status", "=", "open")
      .orderBy("placed_seq")
      .limit(1_000)
      .execute();
    return rows.map(holdFromRow);
  }

  /**
   * Open holds whose time has passed, soonest first, at most `limit`: what a sweep expires
   * (expireHold), so funds held for work that will never settle return to their payers.
   */
  async expiredHolds(nowMs: number, limit = 100): Promise<readonly HoldState[]> {
    const rows = await this.db()
      .selectFrom("holds")
      .selectAll()
      .where("status", "=", "open")
      .where("expires_at_ms", "<=", nowMs)
      .orderBy("expires_at_ms")
      .limit(Math.max(1, Math.min(limit, 1_000)))
      .execute();
    return rows.map(holdFromRow);
  }

  async stakeOf(id: string): Promise<StakePosition> {
    const account = checkUserAccountId("account", id);
    return this.store.readConsistent(async (db) => {
      const stake = await q.selectStakes(db, [account]).executeTakeFirst();
      const unbondings = await q.selectAccountUnbondings(db, account).execute();
      return {
        account,
        bonded: stake === undefined ? 0n : BigInt(stake.bonded),
        unbonding: unbondings.map(unbondingFromRow).filter((u) => u.status === "pending"),
      };
    });
  }

  /** Supply figures from the materialised balances (cheap; verify() recomputes them). */
  async supply(): Promise<SupplyReport> {
    return this.store.readConsistent(async (db) => {
      const meta = metaFromRows(await q.selectMeta(db).execute());
      const rows = await q.selectAccounts(db, Object.values(SYSTEM_ACCOUNTS)).execute();
      const balance = (id: string): bigint => BigInt(rows.find((r) => r.id === id)?.balance ?? "0");
      const issued = -balance(SYSTEM_ACCOUNTS.issuance);
      const burned = balance(SYSTEM_ACCOUNTS.burn);
      return {
        cap: meta.cap,
        issued,
        genesis: meta.genesisTotal,
        replenished: meta.replenishedTotal,
        burned,
        outstanding: issued - burned,
        emissionPool: balance(SYSTEM_ACCOUNTS.emissionPool),
        escrow: balance(SYSTEM_ACCOUNTS.escrow),
        bonded: balance(SYSTEM_ACCOUNTS.stake),
        unbonding: balance(SYSTEM_ACCOUNTS.unbonding),
      };
    });
  }

  /** The AMM pool's reserves, shares, price and TWAP accumulator. */
  async pool(): Promise<PoolView> {
    return this.store.readConsistent(async (db) => {
      const ids = [
        SYSTEM_ACCOUNTS.ammPool,
        MARKET_ACCOUNTS.ammPoolStable,
        MARKET_ACCOUNTS.sharesIssuance,
      ];
      const rows = await q.selectAccounts(db, ids).execute();
      const accounts = new Map(rows.map((row) => [row.id, accountFromRow(row)]));
      const meta = metaFromRows(await q.selectMeta(db).execute());
      const pool = poolFromState(readOnlyState(accounts, meta));
      return {
        ...pool,
        spotPrice: pool.totalShares === 0n ? null : spotPrice(pool),
        params: this.ammParams,
      };
    });
  }

  /** What a swap would pay now, without trading (the protocol's quoteSwap on the live pool). */
  async quoteSwap(side: SwapSide, amountIn: bigint): Promise<SwapQuote> {
    const pool = await this.pool();
    return quoteSwap(pool, side, amountIn, this.ammParams);
  }

  /**
   * The TWAP accumulator as of `nowMs` (Uniswap V2's observation): the time-weighted mean price
   * between two observations is their difference over the elapsed time (protocol `twap`).
   */
  async observePool(
    nowMs: number = this.clock(),
  ): Promise<{ priceCumulative: bigint; timestampMs: number }> {
    const pool = await this.pool();
    if (pool.spotPrice === null) {
      throw ledgerError("LEDGER_INVALID_INPUT", "The AMM pool has no liquidity yet.", {
        hint: "Add liquidity first; a price needs both reserves.",
      });
    }
    const at = Math.max(checkTimeMs("nowMs", nowMs), pool.lastUpdateMs);
    const elapsed = BigInt(at - pool.lastUpdateMs);
    return { priceCumulative: pool.priceCumulative + pool.spotPrice * elapsed, timestampMs: at };
  }

  async snapshotOf(epoch: number): Promise<SnapshotRecord> {
    const row = await q
      .selectSnapshot(this.db(), checkWholeNumber("epoch", epoch))
      .executeTakeFirst();
    if (row === undefined) throw unknownSnapshot(epoch);
    return snapshotOfRow(row);
  }

  /** The snapshot of the highest epoch taken, if any (what a new job's assignment seed reads). */
  async latestSnapshot(): Promise<SnapshotRecord | undefined> {
    const row = await q.selectLatestSnapshot(this.db()).executeTakeFirst();
    return row === undefined ? undefined : snapshotOfRow(row);
  }

  /** A Merkle proof of `account`'s balance in epoch `epoch` (verifyBalanceProof checks it). */
  async proveBalance(
    epoch: number,
    account: string,
  ): Promise<{ readonly root: string; readonly proof: BalanceProof }> {
    const id = checkReadableAccountId("account", account);
    return this.store.readConsistent(async (db) => {
      const snapshot = await q
        .selectSnapshot(db, checkWholeNumber("epoch", epoch))
        .executeTakeFirst();
      if (snapshot === undefined) throw unknownSnapshot(epoch);
      const leaves = (await q.selectSnapshotLeaves(db, epoch).execute()).map((row) => ({
        account: row.account_id,
        balance: BigInt(row.balance),
      }));
      invariant(leaves.length === Number(snapshot.leaf_count), "a snapshot lost leaves", { epoch });
      return { root: snapshot.root, proof: merkleProof(leaves, id) };
    });
  }

  /** The audit: recomputes every balance from the postings and checks every invariant. */
  verify(): Promise<AuditReport> {
    return this.store.readConsistent((db) => auditLedger(db));
  }

  /** Waits for queued operations to commit, then closes the store. */
  close(): Promise<void> {
    return this.store.close();
  }

  // ---- internals ---------------------------------------------------------------------------

  private now(at: At): number {
    return checkTimeMs("nowMs", at.nowMs ?? this.clock());
  }

  /** Async, so validation errors become rejected promises, never synchronous throws. */
  private async post(build: () => Command): Promise<Posting> {
    return (await this.store.execute(build())) as Posting;
  }

  private db(): Kysely<LedgerDatabase> {
    return this.store.reader();
  }

  private async requireAccount(id: string): Promise<AccountState> {
    const account = await this.account(id);
    if (account === undefined) {
      throw ledgerError("LEDGER_UNKNOWN_ACCOUNT", `Account ${id} does not exist.`, {
        hint: `Open it with ledger.openAccount("${id}"), or check the spelling.`,
        details: { account: id },
      });
    }
    return account;
  }
}

function marketResult(posting: Posting, holder: string): MarketResult {
  const change = (account: string): bigint =>
    posting.entries.find((e) => e.account === account)?.amount ?? 0n;
  return {
    posting,
    dpn: change(holder),
    stable: change(accountIn("USD", holder)),
    shares: change(accountIn("LP", holder)),
  };
}

/** A LedgerState over rows already read, for the pure pool maths (nothing else is asked). */
function readOnlyState(accounts: ReadonlyMap<string, AccountState>, meta: MetaState): LedgerState {
  const refuse = (): never => invariant(false, "the pool view read more than the pool") as never;
  return {
    account: (id) => accounts.get(id),
    hold: refuse,
    stake: refuse,
    unbondings: refuse,
    receiptSeq: refuse,
    postingByKey: refuse,
    meta: () => meta,
  };
}

function decodeCursor(cursor: string): number {
  const match = typeof cursor === "string" ? CURSOR.exec(cursor) : null;
  const seq = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(seq)) {
    throw ledgerError(
      "LEDGER_INVALID_CURSOR",
      `${JSON.stringify(cursor)} is not a history cursor.`,
      {
        hint: "Pass back nextCursor exactly as a previous history() call returned it.",
        details: { cursor: String(cursor) },
      },
    );
  }
  return seq;
}

/** Numbers come back as strings from PostgreSQL's bigint columns, hence Number() on each. */
function snapshotOfRow(row: Readonly<SnapshotsTable>): SnapshotRecord {
  return {
    epoch: Number(row.epoch),
    seq: Number(row.seq),
    root: row.root,
    leafCount: Number(row.leaf_count),
    atMs: Number(row.at_ms),
  };
}

function unknownSnapshot(epoch: number): Error {
  return ledgerError("LEDGER_UNKNOWN_SNAPSHOT", `There is no snapshot of epoch ${epoch}.`, {
    hint: "Take one with ledger.snapshot({ epoch }).",
    details: { epoch },
  });
}
