import { type Ledger, MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import {
  type AmmParams,
  type BurningDecision,
  formatDpn,
  isDpnError,
  type LiquidityMark,
  liquidityMark,
  type ReserveInterest,
  reserveInterest,
} from "@dpn/protocol";
import type { ReserveBuybackView } from "@dpn/wire";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";

/**
 * The reserve's interest and its buyback (docs/protocol.md §Reserve interest, §4.2 "the reserve
 * pool interest is used to repurchase DPN"). The reserve holds pool shares (server.ts seeds them);
 * the swap fees those shares earn between two epochs are its interest (protocol
 * `reserveInterest`). Once per epoch:
 *
 * 1. `measure` counts the interest since the last epoch's mark; its stable side is the burning
 *    controller's `reserveInterest`, so a balance epoch's `buyback` is that many stable units;
 * 2. `buyBack` then, in a balance epoch, harvests the interest (removes the fee shares: the
 *    principal stays in the pool), swaps the decision's stable units for DPN through the AMM and
 *    burns the interest's DPN with the DPN bought. At the other levels the fees stay in the pool
 *    and compound into the reserve's position.
 *
 * Every movement is a ledger posting with a key derived from the epoch, so a retry posts nothing
 * twice; every epoch, bought or not, is recorded with the mark the next one measures from.
 */
export class ReserveBuyback {
  private mark: LiquidityMark | null | undefined;
  private measured: { readonly atMs: number; readonly interest: ReserveInterest } | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly store: NodeStore,
    private readonly params: { readonly amm: AmmParams },
  ) {}

  /** The mark of the last recorded epoch, across restarts (null before the first). */
  private async lastMark(): Promise<LiquidityMark | null> {
    if (this.mark !== undefined) return this.mark;
    const [last] = await records.reserveInterest(this.store.db, 1);
    this.mark =
      last?.mark === undefined
        ? null
        : { rootK: BigInt(last.mark.rootK), totalShares: BigInt(last.mark.totalShares) };
    return this.mark;
  }

  /**
   * The epoch's buyback in flight, if any: the next measure waits for it, so that it never reads
   * the pool after a harvest against the mark from before it (which would count the fees twice).
   */
  private settling: Promise<unknown> = Promise.resolve();

  /** The stable side of the reserve's interest since the last epoch (0 with no pool or no mark). */
  async measure(atMs: number): Promise<bigint> {
    await this.settling;
    const pool = await this.ledger.pool();
    if (pool.spotPrice === null) {
      this.measured = undefined;
      return 0n;
    }
    const shares = (await this.ledger.account(MARKET_ACCOUNTS.reserveShares))?.balance ?? 0n;
    const interest = reserveInterest(pool, await this.lastMark(), shares, atMs);
    this.measured = { atMs, interest };
    return interest.stable;
  }

  /** Acts on the epoch's decision with the interest `measure` counted for the same epoch. */
  buyBack(epoch: {
    readonly atMs: number;
    readonly burning: BurningDecision;
  }): Promise<ReserveBuybackView | undefined> {
    const run = this.settle(epoch);
    this.settling = run.catch(() => undefined);
    return run;
  }

  private async settle(epoch: {
    readonly atMs: number;
    readonly burning: BurningDecision;
  }): Promise<ReserveBuybackView | undefined> {
    const measured = this.measured;
    if (measured === undefined || measured.atMs !== epoch.atMs) return undefined;
    this.measured = undefined;
    const { interest } = measured;
    const { level, buyback } = epoch.burning;
    const view = {
      atMs: epoch.atMs,
      level,
      feeShares: interest.feeShares.toString(),
      interestDpn: formatDpn(interest.dpn),
      interestStable: formatDpn(interest.stable),
      stableIn: "0",
      dpnBought: "0",
      dpnBurned: "0",
    };
    let done: Omit<ReserveBuybackView, "mark">;
    if (interest.feeShares === 0n) {
      done = { ...view, note: "no interest this epoch" };
    } else if (level !== "balance") {
      done = { ...view, note: `a ${level} epoch: the interest stays in the pool` };
    } else {
      done = { ...view, ...(await this.execute(epoch.atMs, interest.feeShares, buyback)) };
    }
    // The next epoch measures from the pool as the reserve leaves it: the fees of its own trades
    // (the desk's, the buyback's), partly paid to its own shares, are not interest; they compound.
    const after = await this.ledger.pool();
    this.mark = after.totalShares === 0n ? null : liquidityMark(after);
    const mark =
      this.mark === null
        ? {}
        : {
            mark: {
              rootK: this.mark.rootK.toString(),
              totalShares: this.mark.totalShares.toString(),
            },
          };
    const recorded: ReserveBuybackView = { ...done, ...mark };
    await records.recordReserveInterest(this.store.db, recorded);
    return recorded;
  }

  private async execute(
    atMs: number,
    feeShares: bigint,
    buyback: bigint,
  ): Promise<
    Pick<
      ReserveBuybackView,
      "interestDpn" | "interestStable" | "stableIn" | "dpnBought" | "dpnBurned" | "note"
    >
  > {
    const key = `buyback:${atMs}`;
    // The harvest is read back from its posting: a trade earlier in the epoch's hook (the
    // anti-decoupling desk's) may have changed the pool's mix since the interest was measured.
    const harvest = await this.ledger.removeLiquidity({
      idempotencyKey: `${key}:harvest`,
      provider: SYSTEM_ACCOUNTS.reservePool,
      shares: feeShares,
      nowMs: atMs,
    });
    const stableIn = buyback < harvest.stable ? buyback : harvest.stable;
    let bought = 0n;
    let note = "the interest's stable units bought DPN; both burned";
    if (stableIn > 0n) {
      try {
        const trade = await this.ledger.swap({
          idempotencyKey: `${key}:swap`,
          trader: SYSTEM_ACCOUNTS.reservePool,
          side: "buy-dpn",
          amountIn: stableIn,
          maxSlippageBps: this.params.amm.maxSlippageBps,
          nowMs: atMs,
        });
        bought = trade.dpn;
      } catch (error) {
        if (!isDpnError(error)) throw error;
        // A refused swap (dust, or a pool too thin for it) leaves the stable units with the
        // reserve; the interest's DPN is burned all the same.
        note = `swap refused: ${error.code}; the interest's DPN burned, its stable units kept`;
      }
    }
    const burned = harvest.dpn + bought;
    if (burned > 0n) {
      await this.ledger.burn({
        idempotencyKey: `${key}:burn`,
        from: SYSTEM_ACCOUNTS.reservePool,
        amount: burned,
        nowMs: atMs,
      });
    }
    return {
      interestDpn: formatDpn(harvest.dpn),
      interestStable: formatDpn(harvest.stable),
      stableIn: formatDpn(bought > 0n ? stableIn : 0n),
      dpnBought: formatDpn(bought),
      dpnBurned: formatDpn(burned),
      note,
    };
  }
}
