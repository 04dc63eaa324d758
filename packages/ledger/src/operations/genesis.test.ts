import { genesisAllocation, TOTAL_SUPPLY_CAP } from "@dpn/protocol";
import { expect, it } from "vitest";
import { describeStores, expectAudited, expectRejectedUnchanged } from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("genesis", (ctx) => {
  it("issues the 100M cap once, split per genesisAllocation, balanced against issuance", async () => {
    const ledger = await ctx.open();
    const posting = await ledger.genesis({ idempotencyKey: "g", nowMs: 5 });
    const allocation = genesisAllocation();
    expect(await ledger.balance(SYSTEM_ACCOUNTS.issuance)).toBe(-TOTAL_SUPPLY_CAP);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.emissionPool)).toBe(allocation.miningEmission);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.governanceFund)).toBe(allocation.governanceFund);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.reservePool)).toBe(allocation.reservePool);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.liquidity)).toBe(allocation.liquidity);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.contributors)).toBe(allocation.contributors);
    expect(posting.entries.reduce((sum, e) => sum + e.amount, 0n)).toBe(0n);
    expect(posting.kind).toBe("genesis");
    const supply = await ledger.supply();
    expect(supply.outstanding).toBe(TOTAL_SUPPLY_CAP);
    expect(supply.cap).toBe(TOTAL_SUPPLY_CAP);
    await expectAudited(ledger);
  });

  it("refuses a second genesis and changes nothing", async () => {
    const ledger = await ctx.open();
    await ledger.genesis({ idempotencyKey: "g" });
    await expectRejectedUnchanged(ledger, "LEDGER_GENESIS_ALREADY_DONE", () =>
      ledger.genesis({ idempotencyKey: "g2" }),
    );
  });

  it("returns the first genesis when retried with the same key", async () => {
    const ledger = await ctx.open();
    const first = await ledger.genesis({ idempotencyKey: "g", nowMs: 1 });
    const again = await ledger.genesis({ idempotencyKey: "g", nowMs: 99 });
    expect(again).toEqual(first);
  });
});
