import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

const hold = {
  holdId: "job-1",
  from: "owner:alice",
  amount: 100n * DPN,
  expiresAtMs: 10_000,
  nowMs: 1_000,
};

describeStores("holds", (ctx) => {
  it("locks funds in escrow, captures part and returns the rest in one posting", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    expect(await ledger.balance("owner:alice")).toBe(900n * DPN);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.escrow)).toBe(100n * DPN);
    expect((await ledger.hold("job-1"))?.status).toBe("open");
    const posting = await ledger.captureHold({
      idempotencyKey: "c",
      holdId: "job-1",
      to: "device:d1",
      amount: 30n * DPN,
      nowMs: 2_000,
    });
    expect(posting.entries).toEqual([
      { account: "device:d1", amount: 30n * DPN },
      { account: "owner:alice", amount: 70n * DPN },
      { account: SYSTEM_ACCOUNTS.escrow, amount: -100n * DPN },
    ]);
    expect(await ledger.balance("owner:alice")).toBe(970n * DPN);
    expect(await ledger.hold("job-1")).toMatchObject({
      status: "captured",
      captured: 30n * DPN,
      closedSeq: posting.seq,
    });
    await expectAudited(ledger);
  });

  it("captures all by default", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    await ledger.captureHold({
      idempotencyKey: "c",
      holdId: "job-1",
      to: "device:d1",
      nowMs: 2_000,
    });
    expect(await ledger.balance("device:d1")).toBe(100n * DPN);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.escrow)).toBe(0n);
  });

  it("refuses to capture twice, or after release, and changes nothing", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    await ledger.captureHold({
      idempotencyKey: "c",
      holdId: "job-1",
      to: "device:d1",
      amount: 1n,
      nowMs: 2_000,
    });
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_ALREADY_CAPTURED", () =>
      ledger.captureHold({
        idempotencyKey: "c2",
        holdId: "job-1",
        to: "device:d1",
        amount: 1n,
        nowMs: 2_000,
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_ALREADY_CAPTURED", () =>
      ledger.releaseHold({ idempotencyKey: "r", holdId: "job-1", nowMs: 2_000 }),
    );
    await ledger.placeHold({ idempotencyKey: "h2", ...hold, holdId: "job-2" });
    await ledger.releaseHold({ idempotencyKey: "r2", holdId: "job-2", nowMs: 2_000 });
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_ALREADY_RELEASED", () =>
      ledger.captureHold({ idempotencyKey: "c3", holdId: "job-2", to: "device:d1", nowMs: 2_000 }),
    );
    expect(await ledger.balance(SYSTEM_ACCOUNTS.escrow)).toBe(0n);
    await expectAudited(ledger);
  });

  it("releases the whole hold back to the payer", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    await ledger.releaseHold({ idempotencyKey: "r", holdId: "job-1", nowMs: 2_000 });
    expect(await ledger.balance("owner:alice")).toBe(1_000n * DPN);
    expect((await ledger.hold("job-1"))?.status).toBe("released");
  });

  it("expires only after its time, and an expired hold cannot be captured", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_NOT_EXPIRED", () =>
      ledger.expireHold({ idempotencyKey: "e", holdId: "job-1", nowMs: 9_999 }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_EXPIRED", () =>
      ledger.captureHold({ idempotencyKey: "c", holdId: "job-1", to: "device:d1", nowMs: 10_000 }),
    );
    await ledger.expireHold({ idempotencyKey: "e", holdId: "job-1", nowMs: 10_000 });
    expect(await ledger.balance("owner:alice")).toBe(1_000n * DPN);
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_EXPIRED", () =>
      ledger.captureHold({ idempotencyKey: "c2", holdId: "job-1", to: "device:d1", nowMs: 10_001 }),
    );
    await expectAudited(ledger);
  });

  it("rejects bad holds without change", async () => {
    const ledger = await seeded(ctx);
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.placeHold({ idempotencyKey: "h", ...hold, amount: 1_001n * DPN }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.placeHold({ idempotencyKey: "h", ...hold, expiresAtMs: 1_000 }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_HOLD", () =>
      ledger.captureHold({ idempotencyKey: "c", holdId: "nope", to: "device:d1", nowMs: 2_000 }),
    );
    await ledger.placeHold({ idempotencyKey: "h", ...hold });
    await expectRejectedUnchanged(ledger, "LEDGER_HOLD_EXISTS", () =>
      ledger.placeHold({ idempotencyKey: "h-again", ...hold }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_CAPTURE_EXCEEDS_HOLD", () =>
      ledger.captureHold({
        idempotencyKey: "c",
        holdId: "job-1",
        to: "device:d1",
        amount: 100n * DPN + 1n,
        nowMs: 2_000,
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", () =>
      ledger.captureHold({
        idempotencyKey: "c",
        holdId: "job-1",
        to: "device:ghost",
        nowMs: 2_000,
      }),
    );
  });
});
