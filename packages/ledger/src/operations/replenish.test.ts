import { TOTAL_SUPPLY_CAP } from "@dpn/protocol";
import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("replenishEmission", (ctx) => {
  it("re-issues the burns since the last call into the emission pool, never past the cap", async () => {
    const ledger = await seeded(ctx);
    const pool = await ledger.balance(SYSTEM_ACCOUNTS.emissionPool);
    await ledger.burn({ idempotencyKey: "b1", from: "owner:alice", amount: 100n * DPN });
    await ledger.replenishEmission({ idempotencyKey: "r1", recycleBps: 5_000n });
    expect(await ledger.balance(SYSTEM_ACCOUNTS.emissionPool)).toBe(pool + 50n * DPN);
    // Burns already considered are not re-issued twice.
    await expectRejectedUnchanged(ledger, "LEDGER_NOTHING_TO_REPLENISH", () =>
      ledger.replenishEmission({ idempotencyKey: "r2" }),
    );
    await ledger.burn({ idempotencyKey: "b2", from: "owner:alice", amount: 10n * DPN });
    await ledger.replenishEmission({ idempotencyKey: "r3" });
    expect(await ledger.balance(SYSTEM_ACCOUNTS.emissionPool)).toBe(pool + 60n * DPN);
    const supply = await ledger.supply();
    expect(supply.replenished).toBe(60n * DPN);
    expect(supply.issued).toBe(TOTAL_SUPPLY_CAP + 60n * DPN);
    expect(supply.outstanding).toBe(TOTAL_SUPPLY_CAP - 50n * DPN);
    expect(supply.outstanding <= supply.cap).toBe(true);
    await expectAudited(ledger);
  });

  it("has nothing to do before any burn", async () => {
    const ledger = await seeded(ctx);
    await expectRejectedUnchanged(ledger, "LEDGER_NOTHING_TO_REPLENISH", () =>
      ledger.replenishEmission({ idempotencyKey: "r" }),
    );
  });
});
