import { BPS_DENOMINATOR, checkAmount, ONE_DPN, shareBps } from "./amount.ts";
import { DpnError } from "./errors.ts";

/**
 * Token supply (docs/protocol.md §Supply). §4.1: a total supply of 100 million DPN, 55% issued
 * through computing power mining; §7.3: a governance fund of 10% of the total issuance. The
 * whitepaper leaves 35% unassigned; we assign it to the reserve pool (15%, the capital that
 * anti-decoupling trades with), AMM liquidity (10%) and contributors (10%).
 */
export const TOTAL_SUPPLY_CAP = 100_000_000n * ONE_DPN;

export const GENESIS_BUCKETS = [
  "miningEmission",
  "governanceFund",
  "reservePool",
  "liquidity",
  "contributors",
] as const;
export type GenesisBucket = (typeof GENESIS_BUCKETS)[number];

export const GENESIS_ALLOCATION_BPS: Readonly<Record<GenesisBucket, bigint>> = {
  miningEmission: 5_500n,
  governanceFund: 1_000n,
  reservePool: 1_500n,
  liquidity: 1_000n,
  contributors: 1_000n,
};

/** The genesis allocation in base units; sums to `cap` exactly (rounding dust goes to mining). */
export function genesisAllocation(
  cap: bigint = TOTAL_SUPPLY_CAP,
  allocationBps: Readonly<Record<GenesisBucket, bigint>> = GENESIS_ALLOCATION_BPS,
): Record<GenesisBucket, bigint> {
  checkAmount("cap", cap);
  const totalBps = GENESIS_BUCKETS.reduce((sum, bucket) => sum + allocationBps[bucket], 0n);
  if (totalBps !== BPS_DENOMINATOR) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", `Genesis shares add up to ${totalBps} bps.`, {
      hint: "The genesis allocation must add up to exactly 10000 bps (100%).",
    });
  }
  const allocation = {} as Record<GenesisBucket, bigint>;
  let assigned = 0n;
  for (const bucket of GENESIS_BUCKETS) {
    allocation[bucket] = shareBps(cap, allocationBps[bucket]);
    assigned += allocation[bucket];
  }
  allocation.miningEmission += cap - assigned;
  return allocation;
}

/**
 * Re-issuance of burned supply into the mining emission pool (docs/protocol.md §Supply).
 * Burned DPN leaves the outstanding supply; the cap bounds the outstanding supply, so a burn
 * frees headroom. Each epoch `recycleBps` of the epoch's burns returns to the emission pool,
 * never past the cap. Without it the bank could mint only 55M DPN in its whole life; with it,
 * devices keep being paid for as long as requesters keep spending, and supply falls whenever
 * burning outpaces minting (§8's deflationary stage).
 */
export function emissionReplenishment(
  burnedThisEpoch: bigint,
  outstandingSupply: bigint,
  recycleBps: bigint,
  cap: bigint = TOTAL_SUPPLY_CAP,
): bigint {
  checkAmount("burnedThisEpoch", burnedThisEpoch);
  checkAmount("outstandingSupply", outstandingSupply);
  if (recycleBps < 0n || recycleBps > BPS_DENOMINATOR) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `recycleBps must lie in [0, 10000], got ${recycleBps}.`,
    );
  }
  if (outstandingSupply > cap) {
    throw new DpnError("SUPPLY_CAP_EXCEEDED", "Outstanding supply is above the cap.", {
      hint: "This is a ledger invariant violation; run the ledger audit.",
      details: { outstandingSupply, cap },
    });
  }
  const wanted = shareBps(burnedThisEpoch, recycleBps);
  const headroom = cap - outstandingSupply;
  // biome-ignore lint/complexity/useMathMinMax: Math.min does not take bigints.
  return wanted < headroom ? wanted : headroom;
}

/** Default: all burned supply returns to the emission pool (see emissionReplenishment). */
export const DEFAULT_RECYCLE_BPS = 10_000n;
