import { twap } from "@dpn/protocol";
import fc from "fast-check";
import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "../accounts.ts";
import type { Ledger } from "../ledger.ts";

/** A pool at 0.15 stable per DPN (the anchor): 10,000 DPN against 1,500 stable from bob. */
async function withPool(ledger: Ledger): Promise<void> {
  await ledger.depositStable({
    idempotencyKey: "dep-bob",
    to: "owner:bob",
    amount: 2_000n * DPN,
    reference: "bank-1",
    nowMs: 10,
  });
  await ledger.transfer({
    idempotencyKey: "fund-bob-more",
    from: SYSTEM_ACCOUNTS.contributors,
    to: "owner:bob",
    amount: 10_000n * DPN,
    nowMs: 10,
  });
  await ledger.addLiquidity({
    idempotencyKey: "add-bob",
    provider: "owner:bob",
    dpnAmount: 10_000n * DPN,
    stableAmount: 1_500n * DPN,
    nowMs: 1_000,
  });
}

describeStores("market", (ctx) => {
  it("credits a stable deposit once per reference, in its own asset", async () => {
    const ledger = await seeded(ctx);
    const posting = await ledger.depositStable({
      idempotencyKey: "d1",
      to: "owner:alice",
      amount: "250",
      reference: "wire-77",
      nowMs: 5,
    });
    expect(posting.entries).toEqual(
      expect.arrayContaining([
        { account: MARKET_ACCOUNTS.stableIssuance, amount: -250n * DPN },
        { account: "usd:owner:alice", amount: 250n * DPN },
      ]),
    );
    expect(await ledger.balance("usd:owner:alice")).toBe(250n * DPN);
    expect(await ledger.balance("owner:alice")).toBe(1_000n * DPN);
    await expectRejectedUnchanged(ledger, "LEDGER_DEPOSIT_ALREADY_CREDITED", () =>
      ledger.depositStable({
        idempotencyKey: "d2",
        to: "owner:alice",
        amount: "250",
        reference: "wire-77",
      }),
    );
    await ledger.withdrawStable({ idempotencyKey: "w1", from: "owner:alice", amount: "50" });
    expect(await ledger.balance("usd:owner:alice")).toBe(200n * DPN);
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.withdrawStable({ idempotencyKey: "w2", from: "owner:alice", amount: "201" }),
    );
    const report = await expectAudited(ledger);
    expect(report.supply.outstanding).toBe(report.supply.issued - report.supply.burned);
  });

  it("adds liquidity, swaps both ways within the guard and removes liquidity", async () => {
    const ledger = await seeded(ctx);
    await withPool(ledger);
    const pool = await ledger.pool();
    expect(pool.reserveDpn).toBe(10_000n * DPN);
    expect(pool.reserveStable).toBe(1_500n * DPN);
    expect(pool.spotPrice).toBe((15n * DPN) / 100n);
    expect(await ledger.balance(MARKET_ACCOUNTS.sharesLocked)).toBe(1000n);

    // 50 DPN is 0.5% of the DPN reserve: inside the 0.7% guard.
    const quote = await ledger.quoteSwap("sell-dpn", 50n * DPN);
    const sold = await ledger.swap({
      idempotencyKey: "s1",
      trader: "owner:alice",
      side: "sell-dpn",
      amountIn: 50n * DPN,
      nowMs: 2_000,
    });
    expect(sold.dpn).toBe(-50n * DPN);
    expect(sold.stable).toBe(quote.amountOut);
    expect(sold.stable).toBeLessThan((50n * DPN * 15n) / 100n);
    const bought = await ledger.swap({
      idempotencyKey: "s2",
      trader: "owner:alice",
      side: "buy-dpn",
      amountIn: sold.stable,
      nowMs: 3_000,
    });
    // Two fees later alice has less DPN than she sold.
    expect(bought.dpn).toBeGreaterThan(0n);
    expect(bought.dpn).toBeLessThan(50n * DPN);
    expect(await ledger.balance("usd:owner:alice")).toBe(0n);

    const shares = await ledger.balance("lp:owner:bob");
    const removed = await ledger.removeLiquidity({
      idempotencyKey: "r1",
      provider: "owner:bob",
      shares,
      nowMs: 4_000,
    });
    expect(removed.shares).toBe(-shares);
    // bob gets back more than he put in: the fees stayed in the pool.
    const after = await ledger.pool();
    expect(after.totalShares).toBe(1000n);
    expect(after.reserveDpn).toBeGreaterThan(0n);
    await expectAudited(ledger);
  });

  it("refuses a swap beyond the slippage guard unless the caller widens it", async () => {
    const ledger = await seeded(ctx);
    await withPool(ledger);
    // 100 DPN is 1% of the reserve: above 0.7%.
    const big = { idempotencyKey: "big", trader: "owner:alice", side: "sell-dpn" as const };
    await expectRejectedUnchanged(ledger, "AMM_SLIPPAGE_EXCEEDED", () =>
      ledger.swap({ ...big, amountIn: 100n * DPN }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.swap({ ...big, amountIn: 100n * DPN, maxSlippageBps: 5_001 }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.swap({ ...big, amountIn: 100n * DPN, maxSlippageBps: -1 }),
    );
    const trade = await ledger.swap({ ...big, amountIn: 100n * DPN, maxSlippageBps: 150 });
    expect(trade.stable).toBeGreaterThan(0n);
    await expectAudited(ledger);
  });

  it("rejects bad market input with a code and changes nothing", async () => {
    const ledger = await seeded(ctx);
    await expectRejectedUnchanged(ledger, "AMM_INSUFFICIENT_LIQUIDITY", () =>
      ledger.swap({ idempotencyKey: "x", trader: "owner:alice", side: "sell-dpn", amountIn: 1n }),
    );
    await withPool(ledger);
    const swap = (over: Record<string, unknown>) => () =>
      ledger.swap({
        idempotencyKey: "x",
        trader: "owner:alice",
        side: "sell-dpn",
        amountIn: DPN,
        ...over,
      } as Parameters<typeof ledger.swap>[0]);
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", swap({ side: "sideways" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", swap({ amountIn: -1n }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", swap({ amountIn: 0n }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", swap({ amountIn: 1.5 }));
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", swap({ trader: "owner:zed" }));
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_ACCOUNT_NOT_SPENDABLE",
      swap({ trader: SYSTEM_ACCOUNTS.escrow }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INVALID_ACCOUNT",
      swap({ trader: "usd:owner:a" }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INSUFFICIENT_FUNDS",
      swap({ side: "buy-dpn", amountIn: DPN }),
    );
    await expectRejectedUnchanged(
      ledger,
      "AMM_SLIPPAGE_EXCEEDED",
      swap({ minAmountOut: DPN }), // 1 DPN pays ~0.15 stable
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", () =>
      ledger.addLiquidity({
        idempotencyKey: "x",
        provider: "owner:alice",
        dpnAmount: -5n,
        stableAmount: DPN,
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.addLiquidity({
        idempotencyKey: "x",
        provider: "owner:alice",
        dpnAmount: DPN,
        stableAmount: DPN,
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.removeLiquidity({ idempotencyKey: "x", provider: "owner:alice", shares: 1n }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", () =>
      ledger.depositStable({ idempotencyKey: "x", to: "bob", amount: DPN, reference: "r" }),
    );
  });

  it("advances the TWAP accumulator with time-weighted prices", async () => {
    const ledger = await seeded(ctx);
    await withPool(ledger);
    const start = await ledger.observePool(1_000);
    const later = await ledger.observePool(61_000);
    expect(twap(start, later)).toBe((15n * DPN) / 100n);
    await ledger.swap({
      idempotencyKey: "s",
      trader: "owner:alice",
      side: "sell-dpn",
      amountIn: 60n * DPN,
      nowMs: 61_000,
    });
    const end = await ledger.observePool(121_000);
    const mean = twap(start, end);
    const spot = (await ledger.pool()).spotPrice ?? 0n;
    // Half the window at 0.15, half at the lower post-trade price.
    expect(mean).toBe(((15n * DPN) / 100n + spot) / 2n);
    const reopened = await ctx.reopen(ledger);
    expect(await reopened.observePool(121_000)).toEqual(end);
  });

  it("k never decreases and every posting balances per asset (property)", async () => {
    const ledger = await seeded(ctx);
    await withPool(ledger);
    await ledger.depositStable({
      idempotencyKey: "dep-alice",
      to: "owner:alice",
      amount: 500n * DPN,
      reference: "bank-2",
    });
    let n = 0;
    let at = 2_000;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("sell-dpn" as const, "buy-dpn" as const),
        fc.bigInt({ min: 1n, max: 10n * DPN }),
        async (side, amountIn) => {
          const before = await ledger.pool();
          n += 1;
          at += 1_000;
          try {
            await ledger.swap({
              idempotencyKey: `p${n}`,
              trader: "owner:alice",
              side,
              amountIn,
              maxSlippageBps: 5_000,
              nowMs: at,
            });
          } catch (error) {
            expect((error as { code?: string }).code).toMatch(
              /AMM_INSUFFICIENT_OUTPUT|LEDGER_INSUFFICIENT_FUNDS/,
            );
          }
          const after = await ledger.pool();
          expect(after.reserveDpn * after.reserveStable).toBeGreaterThanOrEqual(
            before.reserveDpn * before.reserveStable,
          );
        },
      ),
      { numRuns: ctx.name === "sqlite" ? 40 : 15 },
    );
    await expectAudited(ledger);
  });
});
