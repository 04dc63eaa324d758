import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("burn", (ctx) => {
  it("moves DPN into the burn sink and out of the outstanding supply", async () => {
    const ledger = await seeded(ctx);
    const before = await ledger.supply();
    await ledger.burn({ idempotencyKey: "b", from: "owner:alice", amount: 10n * DPN });
    expect(await ledger.balance("owner:alice")).toBe(990n * DPN);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.burn)).toBe(10n * DPN);
    const after = await ledger.supply();
    expect(after.outstanding).toBe(before.outstanding - 10n * DPN);
    expect(after.burned).toBe(10n * DPN);
    await expectAudited(ledger);
  });

  it("refuses to burn more than the balance, or from operation accounts", async () => {
    const ledger = await seeded(ctx);
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.burn({ idempotencyKey: "b", from: "owner:alice", amount: 1_000n * DPN + 1n }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_ACCOUNT_NOT_SPENDABLE", () =>
      ledger.burn({ idempotencyKey: "b", from: SYSTEM_ACCOUNTS.emissionPool, amount: 1n }),
    );
  });
});
