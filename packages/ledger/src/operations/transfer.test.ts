import { MAX_AMOUNT } from "@dpn/protocol";
import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("transfer", (ctx) => {
  it("moves funds and a fee in one balanced posting", async () => {
    const ledger = await seeded(ctx);
    const posting = await ledger.transfer({
      idempotencyKey: "t",
      from: "owner:alice",
      to: "owner:bob",
      amount: "12.5",
      fee: "0.5",
    });
    expect(posting.entries).toEqual([
      { account: "owner:alice", amount: -13n * DPN },
      { account: "owner:bob", amount: (125n * DPN) / 10n },
      { account: SYSTEM_ACCOUNTS.fees, amount: DPN / 2n },
    ]);
    expect(await ledger.balance("owner:alice")).toBe(987n * DPN);
    expect(await ledger.balance("owner:bob")).toBe((10_125n * DPN) / 10n);
    await expectAudited(ledger);
  });

  it("rejects every kind of bad input and changes nothing", async () => {
    const ledger = await seeded(ctx);
    const t = (over: Record<string, unknown>) => () =>
      ledger.transfer({
        idempotencyKey: "t",
        from: "owner:alice",
        to: "owner:bob",
        amount: 1n,
        ...over,
      } as Parameters<typeof ledger.transfer>[0]);
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INSUFFICIENT_FUNDS",
      t({ amount: 1_000n * DPN + 1n }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INSUFFICIENT_FUNDS",
      t({ amount: 1_000n * DPN, fee: 1n }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", t({ to: "owner:nobody" }));
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", t({ from: "owner:nobody" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", t({ to: "alice" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", t({ to: "system:nonsense" }));
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_ACCOUNT_NOT_SPENDABLE",
      t({ to: SYSTEM_ACCOUNTS.escrow }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_ACCOUNT_NOT_SPENDABLE",
      t({ from: SYSTEM_ACCOUNTS.issuance }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_SAME_ACCOUNT", t({ to: "owner:alice" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: 0n }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: -5n }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: MAX_AMOUNT + 1n }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: 2n ** 256n }));
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INVALID_AMOUNT",
      t({ amount: "1.0000000000000000001" }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: "1e18" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: "-1" }));
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_AMOUNT", t({ amount: 1.5 }));
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INVALID_IDEMPOTENCY_KEY",
      t({ idempotencyKey: "" }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INVALID_IDEMPOTENCY_KEY",
      t({ idempotencyKey: "has space" }),
    );
    await expectRejectedUnchanged(
      ledger,
      "LEDGER_INVALID_IDEMPOTENCY_KEY",
      t({ idempotencyKey: "k".repeat(129) }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", t({ nowMs: -1 }));
  });

  it("lets governance spend from a treasury account", async () => {
    const ledger = await seeded(ctx);
    await ledger.transfer({
      idempotencyKey: "grant",
      from: SYSTEM_ACCOUNTS.governanceFund,
      to: "owner:bob",
      amount: 5n * DPN,
    });
    expect(await ledger.balance("owner:bob")).toBe(1_005n * DPN);
  });
});
