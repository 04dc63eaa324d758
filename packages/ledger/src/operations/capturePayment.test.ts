import { splitPayment } from "@dpn/protocol";
import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("capturePayment", (ctx) => {
  it("burns the payment minus the 3% fund and the reserve share, and releases the rest", async () => {
    const ledger = await seeded(ctx);
    const reserveBefore = await ledger.balance(SYSTEM_ACCOUNTS.reservePool);
    await ledger.placeHold({
      idempotencyKey: "h",
      holdId: "job",
      from: "owner:alice",
      amount: 100n * DPN,
      expiresAtMs: 10_000,
      nowMs: 1,
    });
    const payment = 80n * DPN + 7n; // odd, so rounding matters
    const capture = await ledger.capturePayment({
      idempotencyKey: "p",
      holdId: "job",
      amount: payment,
      burnBps: 6_000n,
      nowMs: 2,
    });
    const split = splitPayment(payment, 6_000n);
    expect(capture).toMatchObject({
      burned: split.burn,
      antiMonopolyFund: split.antiMonopolyFund,
      reserve: split.reserve,
      released: 100n * DPN - payment,
    });
    expect(split.burn + split.antiMonopolyFund + split.reserve).toBe(payment);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.burn)).toBe(split.burn);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.antiMonopolyFund)).toBe(split.antiMonopolyFund);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.reservePool)).toBe(reserveBefore + split.reserve);
    expect(await ledger.balance("owner:alice")).toBe(1_000n * DPN - payment);
    expect((await ledger.hold("job"))?.status).toBe("captured");
    await expectAudited(ledger);
  });

  it("rejects shares above 100% and a second capture, without change", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({
      idempotencyKey: "h",
      holdId: "job",
      from: "owner:alice",
      amount: 10n * DPN,
      expiresAtMs: 10_000,
      nowMs: 1,
    });
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.capturePayment({ idempotencyKey: "p", holdId: "job", burnBps: 9_800n, nowMs: 2 }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.capturePayment({ idempotencyKey: "p", holdId: "job", burnBps: 10_001n, nowMs: 2 }),
    );
    await ledger.capturePayment({ idempotencyKey: "p", holdId: "job", burnBps: 5_000n, nowMs: 2 });
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_ALREADY_CAPTURED", () =>
      ledger.capturePayment({ idempotencyKey: "p2", holdId: "job", burnBps: 5_000n, nowMs: 2 }),
    );
  });
});
