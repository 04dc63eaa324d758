import { expect, it } from "vitest";
import { DPN, describeStores, expectAudited, type StoreContext, seeded } from "../test/stores.ts";
import type { Ledger } from "./ledger.ts";

async function busyLedger(ctx: StoreContext): Promise<Ledger> {
  const ledger = await seeded(ctx, { unbondingMs: 10 });
  await ledger.mint({ idempotencyKey: "m", to: "device:d1", amount: 3n * DPN, receiptId: "r" });
  await ledger.placeHold({
    idempotencyKey: "h",
    holdId: "job",
    from: "owner:alice",
    amount: 50n * DPN,
    expiresAtMs: 10_000,
    nowMs: 1,
  });
  await ledger.stake({ idempotencyKey: "s", account: "owner:bob", amount: 20n * DPN, nowMs: 1 });
  await ledger.unstake({ idempotencyKey: "u", account: "owner:bob", amount: 5n * DPN, nowMs: 1 });
  await ledger.burn({ idempotencyKey: "b", from: "owner:bob", amount: DPN });
  return ledger;
}

async function failedChecks(ledger: Ledger): Promise<string[]> {
  const report = await ledger.verify();
  return report.checks.filter((c) => !c.ok).map((c) => c.name);
}

describeStores("audit", (ctx) => {
  it("passes on a busy ledger and reports the supply", async () => {
    const ledger = await busyLedger(ctx);
    await expectAudited(ledger);
    const report = await ledger.verify();
    expect(report.supply.outstanding).toBe(report.supply.issued - report.supply.burned);
    expect(report.supply.escrow).toBe(50n * DPN);
    expect(report.supply.bonded).toBe(15n * DPN);
    expect(report.supply.unbonding).toBe(5n * DPN);
  });

  it("catches a balance edited by hand", async () => {
    const ledger = await busyLedger(ctx);
    await ctx.tamper(ledger, "update accounts set balance = '1' where id = 'owner:alice'");
    expect(await failedChecks(ledger)).toEqual([
      "materialised balances equal the sum of entries",
      "balances sum to zero",
      "supply within the cap",
    ]);
  });

  it("catches a lost entry row", async () => {
    const ledger = await busyLedger(ctx);
    await ctx.tamper(ledger, "delete from entries where account_id = 'device:d1'");
    expect(await failedChecks(ledger)).toEqual([
      "entries table matches the postings",
      "materialised balances equal the sum of entries",
    ]);
  });

  it("catches an unbalanced posting", async () => {
    const ledger = await busyLedger(ctx);
    const posting = await ledger.postingByKey("m");
    await ctx.tamper(
      ledger,
      `update postings set entries = '[["device:d1","1"],["system:emission-pool","-2"]]' where seq = ${posting?.seq}`,
    );
    expect(await failedChecks(ledger)).toContain("every posting set sums to zero");
  });

  it("catches a sub-ledger that disagrees with its control account", async () => {
    const ledger = await busyLedger(ctx);
    await ctx.tamper(ledger, "update holds set amount = '1' where id = 'job'");
    await ctx.tamper(ledger, "update stakes set bonded = '1'");
    expect(await failedChecks(ledger)).toEqual(["control accounts equal their sub-ledgers"]);
  });

  it("refuses to open a ledger that fails its audit", async () => {
    const ledger = await busyLedger(ctx);
    await ctx.tamper(ledger, "update accounts set balance = '0' where id = 'owner:bob'");
    await expect(ctx.reopen(ledger)).rejects.toMatchObject({ code: "LEDGER_AUDIT_FAILED" });
  });
});
