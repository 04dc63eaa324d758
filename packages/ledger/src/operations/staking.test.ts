import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";

const DAY = 86_400_000;

describeStores("staking", (ctx) => {
  it("bonds, unbonds over the unbonding period, then withdraws", async () => {
    const ledger = await seeded(ctx, { unbondingMs: DAY });
    await ledger.stake({
      idempotencyKey: "s",
      account: "owner:alice",
      amount: 100n * DPN,
      nowMs: 0,
    });
    expect(await ledger.balance("owner:alice")).toBe(900n * DPN);
    expect(await ledger.balance(SYSTEM_ACCOUNTS.stake)).toBe(100n * DPN);
    const unstake = await ledger.unstake({
      idempotencyKey: "u",
      account: "owner:alice",
      amount: 40n * DPN,
      nowMs: 1_000,
    });
    const position = await ledger.stakeOf("owner:alice");
    expect(position.bonded).toBe(60n * DPN);
    expect(position.unbonding).toEqual([
      {
        id: unstake.seq,
        account: "owner:alice",
        amount: 40n * DPN,
        releaseAtMs: 1_000 + DAY,
        status: "pending",
      },
    ]);
    await expectRejectedUnchanged(ledger, "LEDGER_NOTHING_TO_WITHDRAW", () =>
      ledger.withdrawUnbonded({ idempotencyKey: "w", account: "owner:alice", nowMs: DAY }),
    );
    await ledger.withdrawUnbonded({
      idempotencyKey: "w",
      account: "owner:alice",
      nowMs: 1_000 + DAY,
    });
    expect(await ledger.balance("owner:alice")).toBe(940n * DPN);
    expect((await ledger.stakeOf("owner:alice")).unbonding).toEqual([]);
    await expectAudited(ledger);
  });

  it("rejects unstaking more than is bonded, and staking more than the balance", async () => {
    const ledger = await seeded(ctx);
    await ledger.stake({ idempotencyKey: "s", account: "owner:alice", amount: 10n * DPN });
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_STAKE", () =>
      ledger.unstake({ idempotencyKey: "u", account: "owner:alice", amount: 10n * DPN + 1n }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INSUFFICIENT_FUNDS", () =>
      ledger.stake({ idempotencyKey: "s2", account: "owner:alice", amount: 991n * DPN }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_UNKNOWN_ACCOUNT", () =>
      ledger.stake({ idempotencyKey: "s3", account: "owner:ghost", amount: 1n }),
    );
  });
});
