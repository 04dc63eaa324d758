import {
  type AmmPool,
  addLiquidity,
  createPool,
  DpnError,
  dpnFromNumber,
  type ExchangeRate,
  emissionReplenishment,
  genesisAllocation,
  mulDiv,
  priceDpn,
  reward,
  splitPayment,
  TOTAL_SUPPLY_CAP,
} from "@dpn/protocol";
import { BUCKET_CLASS, BUCKET_COUNT } from "./fleet.ts";

/**
 * The simulated ledger: every DPN account of docs/protocol.md §Supply as exact bigint base units,
 * moved only by the protocol's own functions (`reward`, `priceDpn`, `splitPayment`,
 * `emissionReplenishment`, the AMM). Model quantities (CU, prices) are floats; they become
 * amounts only inside those functions (`dpnFromNumber`, floor), or once per trade in the market
 * model, so the books balance to the base unit (checkConservation).
 */
export interface Accounts {
  /** Mining emission pool (§4.1's 55%), refilled by recycled burns. */
  emissionPool: bigint;
  governanceFund: bigint;
  /** The contributors' bucket not yet held by users. */
  contributors: bigint;
  /** DPN the reserve defends the peg with (§4.3). */
  reserveDpn: bigint;
  /** Stable the reserve holds (from its sales; optionally seeded). Not DPN: outside the supply. */
  reserveStable: bigint;
  antiMonopolyFund: bigint;
  /** Everyone outside the protocol: devices, requesters, traders. C of §Exchange rate. */
  users: bigint;
}

export interface Totals {
  minted: bigint;
  paid: bigint;
  burned: bigint;
  replenished: bigint;
  toFund: bigint;
  toReserve: bigint;
  /** Payments that could not be taken because users held too little DPN. */
  unpaid: bigint;
  /** Rewards not minted because the emission pool was empty. */
  unminted: bigint;
}

export interface EpochSettlement {
  readonly minted: bigint;
  readonly mintedByBucket: readonly bigint[];
  readonly paid: bigint;
  readonly burned: bigint;
  readonly replenished: bigint;
}

export const SIM_INVARIANT_VIOLATED = "SIM_INVARIANT_VIOLATED";

export interface EconomyOptions {
  readonly anchorUsd: number;
  /** DPN held by users at the start (the contributors' 10% by default: a running economy). */
  readonly initialUsersDpn: bigint;
  /** Stable the reserve holds at the start, base units (genesis gives it DPN only). */
  readonly initialReserveStable: bigint;
  readonly recycleBps: bigint;
  readonly antiMonopolyFundBps: bigint;
  readonly nowMs: number;
}

export class Economy {
  readonly accounts: Accounts;
  readonly totals: Totals;
  pool: AmmPool;
  /** Everything not burned, pools included: the quantity the cap bounds. */
  outstanding: bigint;
  readonly genesisOutstanding: bigint;
  private readonly recycleBps: bigint;
  private readonly fundBps: bigint;
  private readonly scratchWanted: bigint[] = new Array<bigint>(BUCKET_COUNT).fill(0n);

  constructor(options: EconomyOptions) {
    const genesis = genesisAllocation(TOTAL_SUPPLY_CAP);
    // The contributors' bucket is what users hold at the start: the simulation opens on a running
    // economy, not on launch day, so circulation is not zero (which would pin S_t at 0.5).
    const users = options.initialUsersDpn;
    if (users > genesis.contributors) {
      throw new DpnError(
        "SIM_INVALID_OPTION",
        "initialUsersDpn exceeds the contributors' bucket.",
        {
          hint: "Users can start with at most the 10% contributors' allocation (10,000,000 DPN).",
        },
      );
    }
    this.accounts = {
      emissionPool: genesis.miningEmission,
      governanceFund: genesis.governanceFund,
      contributors: genesis.contributors - users,
      reserveDpn: genesis.reservePool,
      reserveStable: options.initialReserveStable,
      antiMonopolyFund: 0n,
      users,
    };
    // §4.5: the DPN/stable pool opens at the anchor price with the genesis liquidity bucket.
    const stable = dpnFromNumber(Number(genesis.liquidity) * options.anchorUsd * 1e-18);
    this.pool = addLiquidity(
      createPool(options.nowMs),
      genesis.liquidity,
      stable,
      options.nowMs,
    ).pool;
    this.outstanding = TOTAL_SUPPLY_CAP;
    this.genesisOutstanding = TOTAL_SUPPLY_CAP;
    this.recycleBps = options.recycleBps;
    this.fundBps = options.antiMonopolyFundBps;
    this.totals = {
      minted: 0n,
      paid: 0n,
      burned: 0n,
      replenished: 0n,
      toFund: 0n,
      toReserve: 0n,
      unpaid: 0n,
      unminted: 0n,
    };
  }

  /**
   * One epoch of deposits and redemptions (docs/protocol.md §Rewards and quotes, §Payment split,
   * §Supply). `rewardCu[b]` is the CU each bucket delivered, for rigs already weighted by each
   * rig's decay factor (`decayFactor`, §Time decay), so that one `reward` call per bucket — one
   * floor to base units — pays the whole bucket. `servedCu` is what requesters pay for.
   */
  settleEpoch(
    rewardCu: Float64Array,
    servedCu: number,
    rate: ExchangeRate,
    burnBps: bigint,
  ): EpochSettlement {
    const a = this.accounts;
    let wanted = 0n;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const cu = rewardCu[b] as number;
      const amount =
        cu > 0
          ? reward({ cu, deviceClass: BUCKET_CLASS[b] ?? "pc", operatingDays: 0 }, rate).amount
          : 0n;
      this.scratchWanted[b] = amount;
      wanted += amount;
    }
    // Minting never exceeds the emission pool (§Supply); when it would, every bucket is paid the
    // same fraction of its reward (rounded down), and the shortfall is recorded.
    const mintedByBucket: bigint[] = new Array<bigint>(BUCKET_COUNT);
    let minted = 0n;
    for (let b = 0; b < BUCKET_COUNT; b++) {
      const want = this.scratchWanted[b] ?? 0n;
      const amount = wanted <= a.emissionPool ? want : mulDiv(want, a.emissionPool, wanted);
      mintedByBucket[b] = amount;
      minted += amount;
    }
    a.emissionPool -= minted;
    a.users += minted;
    this.totals.minted += minted;
    this.totals.unminted += wanted - minted;

    // Requesters pay cu / Rate_t from what users hold; the payment is split at the controller's
    // burn rate (§Payment split).
    const price = servedCu > 0 ? priceDpn(servedCu, rate) : 0n;
    const paid = price <= a.users ? price : a.users;
    this.totals.unpaid += price - paid;
    const split = splitPayment(paid, burnBps, this.fundBps);
    a.users -= paid;
    a.antiMonopolyFund += split.antiMonopolyFund;
    a.reserveDpn += split.reserve;
    this.outstanding -= split.burn;
    const replenished = emissionReplenishment(split.burn, this.outstanding, this.recycleBps);
    a.emissionPool += replenished;
    this.outstanding += replenished;
    this.totals.paid += paid;
    this.totals.burned += split.burn;
    this.totals.replenished += replenished;
    this.totals.toFund += split.antiMonopolyFund;
    this.totals.toReserve += split.reserve;
    return { minted, mintedByBucket, paid, burned: split.burn, replenished };
  }

  /** DPN held by the protocol and users, pool included: must equal `outstanding`. */
  heldDpn(): bigint {
    const a = this.accounts;
    return (
      a.emissionPool +
      a.governanceFund +
      a.contributors +
      a.reserveDpn +
      a.antiMonopolyFund +
      a.users +
      this.pool.reserveDpn
    );
  }

  /**
   * Asserts the ledger invariants (a broken invariant stops the run): every account is
   * non-negative, the accounts add up to the outstanding supply, and the outstanding supply moved
   * by exactly replenished − burned since genesis (minting only moves DPN between accounts).
   */
  checkConservation(): void {
    const a = this.accounts;
    const negative = Object.entries(a).find(([, value]) => value < 0n);
    if (negative !== undefined || this.pool.reserveDpn <= 0n || this.pool.reserveStable <= 0n) {
      throw new DpnError(SIM_INVARIANT_VIOLATED, "An account went negative.", {
        details: { account: negative?.[0] ?? "pool" },
      });
    }
    const held = this.heldDpn();
    const expected = this.genesisOutstanding - this.totals.burned + this.totals.replenished;
    if (held !== this.outstanding || this.outstanding !== expected) {
      throw new DpnError(SIM_INVARIANT_VIOLATED, "The simulated ledger does not balance.", {
        details: { held, outstanding: this.outstanding, expected },
      });
    }
    if (this.outstanding > TOTAL_SUPPLY_CAP) {
      throw new DpnError(SIM_INVARIANT_VIOLATED, "Outstanding supply is above the cap.");
    }
  }
}
