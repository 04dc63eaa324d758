import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import {
  type AmmPool,
  formatDpn,
  liquidityMark,
  parseDpn,
  quoteSwap,
  removeLiquidity,
  reserveInterest,
} from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MARKET_SEED, type RunningNode, startNode } from "../src/server.ts";
import { TEST_STORE, testStore } from "./stores.ts";

/**
 * The reserve's interest buyback (docs/protocol.md §Reserve interest, §4.2): the reserve holds a
 * third of the pool's shares; traders pay swap fees; at the next epoch, a balance epoch, the
 * reserve harvests the fees its shares earned, swaps their stable side for DPN through the AMM
 * and burns the DPN, by exactly what the protocol's pool maths computes from the pool the test
 * reads. At another level the fees stay in the pool.
 */
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.close();
  node = undefined;
});

const EPOCH_MS = 60_000;

async function start(clock: { t: number }) {
  const trader = newIdentity();
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-buyback-")),
    logLevel: "silent",
    now: () => clock.t,
    epochMs: EPOCH_MS,
    sweepMs: 3_600_000, // the test closes the epochs itself
    grants: { [trader.id]: "100000" },
    stableGrants: { [trader.id]: "10000" },
    market: {
      poolDpn: "1500000",
      poolStable: "225000",
      reserveStable: "100000",
      reserveLiquidityDpn: "500000",
    },
  });
  const client = new DpnClient({ url: node.url, identity: trader, now: () => clock.t });
  return { node, trader, client };
}

/** A round trip through the pool (buy, then sell what was bought): fees, and the price back. */
async function roundTrip(client: DpnClient, clock: { t: number }, ref: string): Promise<void> {
  clock.t += 1_000;
  const bought = await client.swap({ side: "buy-dpn", amountIn: "1000", clientRef: `${ref}-b` });
  clock.t += 1_000;
  await client.swap({ side: "sell-dpn", amountIn: bought.dpn, clientRef: `${ref}-s` });
}

function asPool(view: Awaited<ReturnType<RunningNode["ledger"]["pool"]>>): AmmPool {
  return {
    reserveDpn: view.reserveDpn,
    reserveStable: view.reserveStable,
    totalShares: view.totalShares,
    priceCumulative: view.priceCumulative,
    lastUpdateMs: view.lastUpdateMs,
  };
}

describe(`the reserve's interest buyback (${TEST_STORE})`, () => {
  it("buys back and burns exactly the DPN the reserve's fees pay for in a balance epoch", async () => {
    const clock = { t: 1_700_000_000_000 };
    const { node: n, client } = await start(clock);
    const shares = await n.ledger.balance(MARKET_ACCOUNTS.reserveShares);
    expect(shares).toBeGreaterThan(0n);

    // The first epoch marks the pool: nothing is counted before it.
    const first = await n.bank.economics();
    expect(first.inputs.reserveInterest).toBe("0");
    const mark = liquidityMark(asPool(await n.ledger.pool()));

    await roundTrip(client, clock, "r1");
    const pool = asPool(await n.ledger.pool());
    const expected = reserveInterest(pool, mark, shares, clock.t + EPOCH_MS);
    expect(expected.feeShares).toBeGreaterThan(0n);
    const harvested = removeLiquidity(pool, expected.feeShares, clock.t + EPOCH_MS).pool;
    const bought = quoteSwap(harvested, "buy-dpn", expected.stable, n.ledger.ammParams).amountOut;
    const burnedBefore = (await n.ledger.supply()).burned;
    const reserveDpnBefore = await n.ledger.balance(SYSTEM_ACCOUNTS.reservePool);

    clock.t += EPOCH_MS;
    const epoch = await n.bank.economics();
    // An idle network (no supply, no demand) is in balance: the interest is spent on a buyback.
    expect(epoch.burning.level).toBe("balance");
    expect(epoch.inputs.reserveInterest).toBe(expected.stable.toString());
    expect(epoch.burning.buyback).toBe(expected.stable);

    const supply = await n.ledger.supply();
    expect(supply.burned - burnedBefore).toBe(expected.dpn + bought);
    const burn = await n.ledger.postingByKey(`buyback:${epoch.atMs}:burn`);
    expect(burn?.entries.find((e) => e.account === SYSTEM_ACCOUNTS.burn)?.amount).toBe(
      expected.dpn + bought,
    );
    // The reserve's DPN is where it was (the harvested and the bought DPN were burned), its
    // principal stays in the pool, and the burn is recycled into the emission pool this epoch.
    expect(await n.ledger.balance(SYSTEM_ACCOUNTS.reservePool)).toBe(reserveDpnBefore);
    expect(await n.ledger.balance(MARKET_ACCOUNTS.reserveShares)).toBe(shares - expected.feeShares);
    expect(supply.replenished).toBe(supply.burned);

    const reserve = await client.reserve();
    expect(reserve.shares).toBe((shares - expected.feeShares).toString());
    expect(reserve.buybacks[0]).toMatchObject({
      atMs: epoch.atMs,
      level: "balance",
      feeShares: expected.feeShares.toString(),
      interestDpn: formatDpn(expected.dpn),
      interestStable: formatDpn(expected.stable),
      stableIn: formatDpn(expected.stable),
      dpnBought: formatDpn(bought),
      dpnBurned: formatDpn(expected.dpn + bought),
    });
    expect((await n.ledger.verify()).ok).toBe(true);

    // With no trade since, the next epoch earns nothing and burns nothing.
    clock.t += EPOCH_MS;
    const quiet = await n.bank.economics();
    expect(quiet.burning.buyback).toBe(0n);
    expect((await n.ledger.supply()).burned).toBe(supply.burned);
  });

  it("gives the reserve half of the default pool, at the anchor", async () => {
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-buyback-")),
      logLevel: "silent",
      sweepMs: 3_600_000,
    });
    const pool = await node.ledger.pool();
    expect([pool.reserveDpn, pool.reserveStable]).toEqual([
      parseDpn(DEFAULT_MARKET_SEED.poolDpn),
      parseDpn(DEFAULT_MARKET_SEED.poolStable),
    ]);
    expect(formatDpn(pool.spotPrice ?? 0n)).toBe("0.15");
    const reserve = await node.ledger.balance(MARKET_ACCOUNTS.reserveShares);
    const liquidity = await node.ledger.balance(MARKET_ACCOUNTS.liquidityShares);
    // The liquidity allocation deposited first, so the 1,000 locked shares are counted against it.
    expect(reserve).toBe(liquidity + 1_000n);
    expect((await node.ledger.verify()).ok).toBe(true);
  });

  it("keeps the interest in the pool outside balance epochs", async () => {
    const clock = { t: 1_700_000_000_000 };
    const { node: n, client } = await start(clock);
    const shares = await n.ledger.balance(MARKET_ACCOUNTS.reserveShares);
    await n.bank.economics();
    await roundTrip(client, clock, "r1");
    // Work waiting with no device online to take it: a shortage.
    await client.submitJob({
      spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 1_000 }] },
      budget: "1",
      deadlineMs: clock.t + 10 * EPOCH_MS,
      clientRef: "queued",
    });
    const burned = (await n.ledger.supply()).burned;

    clock.t += EPOCH_MS;
    const epoch = await n.bank.economics();
    expect(epoch.burning.level).toBe("shortage");
    expect(BigInt(epoch.inputs.reserveInterest ?? "0")).toBeGreaterThan(0n);
    expect(epoch.burning.buyback).toBe(0n);
    expect((await n.ledger.supply()).burned).toBe(burned);
    expect(await n.ledger.balance(MARKET_ACCOUNTS.reserveShares)).toBe(shares);
    const [record] = (await client.reserve()).buybacks;
    expect(record).toMatchObject({ level: "shortage", dpnBurned: "0" });
    expect(BigInt(record?.feeShares ?? "0")).toBeGreaterThan(0n);
    expect((await n.ledger.verify()).ok).toBe(true);
  });
});
