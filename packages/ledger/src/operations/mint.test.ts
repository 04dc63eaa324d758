import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("mint", (ctx) => {
  it("pays a work reward from the emission pool to the device", async () => {
    const ledger = await seeded(ctx);
    const pool = await ledger.balance(SYSTEM_ACCOUNTS.emissionPool);
    const posting = await ledger.mint({
      idempotencyKey: "m1",
      to: "device:d1",
      amount: "2.5",
      receiptId: "receipt-1",
    });
    expect(posting.entries).toEqual([
      { account: "device:d1", amount: (25n * DPN) / 10n },
      { account: SYSTEM_ACCOUNTS.emissionPool, amount: (-25n * DPN) / 10n },
    ]);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.emissionPool)).toBe(pool - (25n * DPN) / 10n);
    expect(posting.command.receiptId).toBe("receipt-1");
    await expectAudited(ledger);
  });

  it("cannot mint more than the pool holds", async () => {
    const ledger = await seeded(ctx);
    const pool = await ledger.balance(SYSTEM_ACCOUNTS.emissionPool);
    await expectRejectedUnchanged(ledger, "LEDGER_MINT_EXCEEDS_POOL", () =>
      ledger.mint({ idempotencyKey: "m1", to: "device:d1", amount: pool + 1n, receiptId: "r" }),
    );
    await ledger.mint({ idempotencyKey: "m2", to: "device:d1", amount: pool, receiptId: "r" });
    expect(await ledger.balance(SYSTEM_ACCOUNTS.emissionPool)).toBe(0n);
    await expectRejectedUnchanged(ledger, "LEDGER_MINT_EXCEEDS_POOL", () =>
      ledger.mint({ idempotencyKey: "m3", to: "device:d1", amount: 1n, receiptId: "r2" }),
    );
  });

  it("cannot mint before genesis (the pool is empty)", async () => {
    const ledger = await ctx.open();
    await ledger.openAccount("device:d1");
    await expectRejectedUnchanged(ledger, "LEDGER_MINT_EXCEEDS_POOL", () =>
      ledger.mint({ idempotencyKey: "m", to: "device:d1", amount: 1n, receiptId: "r" }),
    );
  });

  it("pays each receipt once", async () => {
    const ledger = await seeded(ctx);
    await ledger.mint({ idempotencyKey: "m1", to: "device:d1", amount: 1n, receiptId: "r" });
    await expectRejectedUnchanged(ledger, "LEDGER_RECEIPT_ALREADY_MINTED", () =>
      ledger.mint({ idempotencyKey: "m2", to: "device:d1", amount: 1n, receiptId: "r" }),
    );
  });

  it("rejects unknown accounts, system targets and bad amounts without change", async () => {
    const ledger = await seeded(ctx);
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", () =>
      ledger.mint({ idempotencyKey: "m", to: "device:ghost", amount: 1n, receiptId: "r" }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", () =>
      ledger.mint({
        idempotencyKey: "m",
        to: SYSTEM_ACCOUNTS.reservePool,
        amount: 1n,
        receiptId: "r",
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", () =>
      ledger.mint({ idempotencyKey: "m", to: "device:d1", amount: 0n, receiptId: "r" }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.mint({ idempotencyKey: "m", to: "device:d1", amount: 1n, receiptId: "" }),
    );
  });
});
