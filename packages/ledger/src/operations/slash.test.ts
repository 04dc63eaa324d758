import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

describeStores("slash", (ctx) => {
  it("takes bonded stake first, then unbonding stake, into the burn sink", async () => {
    const ledger = await seeded(ctx, { unbondingMs: 1_000 });
    await ledger.stake({
      idempotencyKey: "s-alice",
      account: "owner:alice",
      amount: 100n * DPN,
      nowMs: 0,
    });
    await ledger.unstake({
      idempotencyKey: "u",
      account: "owner:alice",
      amount: 30n * DPN,
      nowMs: 0,
    });
    await ledger.slash({
      idempotencyKey: "x",
      account: "owner:alice",
      amount: 80n * DPN,
      nowMs: 1,
    });
    const position = await ledger.stakeOf("owner:alice");
    expect(position.bonded).toBe(0n);
    // 70 bonded + 10 of the 30 unbonding.
    expect(position.unbonding.map((u) => u.amount)).toEqual([20n * DPN]);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.burn)).toBe(80n * DPN);
    await ledger.withdrawUnbonded({ idempotencyKey: "w", account: "owner:alice", nowMs: 1_000 });
    expect(await ledger.balance("owner:alice")).toBe(920n * DPN);
    await expectAudited(ledger);
  });

  it("can send slashed stake to a treasury, and never more than is at stake", async () => {
    const ledger = await seeded(ctx);
    await ledger.stake({ idempotencyKey: "s", account: "owner:alice", amount: 10n * DPN });
    await ledger.slash({
      idempotencyKey: "x",
      account: "owner:alice",
      amount: 4n * DPN,
      to: SYSTEM_ACCOUNTS.antiMonopolyFund,
    });
    expect(await ledger.balance(SYSTEM_ACCOUNTS.antiMonopolyFund)).toBe(4n * DPN);
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_STAKE", () =>
      ledger.slash({ idempotencyKey: "x2", account: "owner:alice", amount: 6n * DPN + 1n }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_INPUT", () =>
      ledger.slash({ idempotencyKey: "x3", account: "owner:alice", amount: 1n, to: "owner:bob" }),
    );
  });

  it("closes a fully slashed unbonding so that nothing empty is ever withdrawn", async () => {
    const ledger = await seeded(ctx, { unbondingMs: 10 });
    await ledger.stake({ idempotencyKey: "s", account: "owner:alice", amount: 5n, nowMs: 0 });
    await ledger.unstake({ idempotencyKey: "u", account: "owner:alice", amount: 5n, nowMs: 0 });
    await ledger.slash({ idempotencyKey: "x", account: "owner:alice", amount: 5n, nowMs: 1 });
    await expectRejectedUnchanged(ledger, "LEDGER_NOTHING_TO_WITHDRAW", () =>
      ledger.withdrawUnbonded({ idempotencyKey: "w", account: "owner:alice", nowMs: 100 }),
    );
    await expectAudited(ledger);
  });
});
