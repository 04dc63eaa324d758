import { expect, it } from "vitest";
import {
  DPN,
  describeStores,
  expectAudited,
  expectRejectedUnchanged,
  seeded,
} from "../test/stores.ts";
import { SYSTEM_ACCOUNTS } from "./accounts.ts";
import { verifyBalanceProof } from "./merkle.ts";

describeStores("ledger", (ctx) => {
  it("returns the first result for a retried key and rejects a reused key with new content", async () => {
    const ledger = await seeded(ctx);
    const first = await ledger.transfer({
      idempotencyKey: "pay-1",
      from: "owner:alice",
      to: "owner:bob",
      amount: 5n,
      nowMs: 10,
    });
    const retry = await ledger.transfer({
      idempotencyKey: "pay-1",
      from: "owner:alice",
      to: "owner:bob",
      amount: 5n,
      nowMs: 20,
    });
    expect(retry).toEqual(first);
    expect(await ledger.balance("owner:bob")).toBe(1_000n * DPN + 5n);
    await expectRejectedUnchanged(ledger, "LEDGER_IDEMPOTENCY_CONFLICT", () =>
      ledger.transfer({
        idempotencyKey: "pay-1",
        from: "owner:alice",
        to: "owner:bob",
        amount: 6n,
      }),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_IDEMPOTENCY_CONFLICT", () =>
      ledger.burn({ idempotencyKey: "pay-1", from: "owner:alice", amount: 5n }),
    );
    expect(await ledger.postingByKey("pay-1")).toEqual(first);
  });

  it("deduplicates a key used twice inside one group-commit batch", async () => {
    const ledger = await seeded(ctx);
    const same = () =>
      ledger.transfer({ idempotencyKey: "dup", from: "owner:alice", to: "owner:bob", amount: 7n });
    const [a, b, c] = await Promise.allSettled([
      same(),
      same(),
      ledger.transfer({ idempotencyKey: "dup", from: "owner:alice", to: "owner:bob", amount: 8n }),
    ]);
    expect(
      a.status === "fulfilled" && b.status === "fulfilled" && a.value.seq === b.value.seq,
    ).toBe(true);
    expect(c.status === "rejected" && (c.reason as { code: string }).code).toBe(
      "LEDGER_IDEMPOTENCY_CONFLICT",
    );
    expect(await ledger.balance("owner:bob")).toBe(1_000n * DPN + 7n);
  });

  it("fails only the overdrawing operations of a concurrent batch, never overdraws", async () => {
    const ledger = await seeded(ctx);
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        ledger.transfer({
          idempotencyKey: `t${i}`,
          from: "owner:alice",
          to: "owner:bob",
          amount: 100n * DPN,
        }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const failed = results.filter((r) => r.status === "rejected");
    expect(ok).toBe(10);
    expect(
      failed.every((r) => (r.reason as { code: string }).code === "LEDGER_INSUFFICIENT_FUNDS"),
    ).toBe(true);
    expect(await ledger.balance("owner:alice")).toBe(0n);
    expect(ledger.store.stats().batches).toBeLessThan(ledger.store.stats().commands);
    await expectAudited(ledger);
  });

  it("pages through history with a cursor, newest first", async () => {
    const ledger = await seeded(ctx);
    for (let i = 1; i <= 7; i++) {
      await ledger.transfer({
        idempotencyKey: `h${i}`,
        from: "owner:alice",
        to: "owner:bob",
        amount: BigInt(i),
        nowMs: 100 + i,
      });
    }
    const seen: bigint[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await ledger.history("owner:alice", { limit: 3, cursor });
      seen.push(...page.entries.map((e) => e.amount));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([-7n, -6n, -5n, -4n, -3n, -2n, -1n, 1_000n * DPN]);
    const top = (await ledger.history("owner:alice", { limit: 1 })).entries[0];
    expect(top).toMatchObject({
      kind: "transfer",
      idempotencyKey: "h7",
      balanceAfter: 1_000n * DPN - 28n,
    });
    await expect(ledger.history("owner:alice", { cursor: "nonsense" })).rejects.toMatchObject({
      code: "LEDGER_INVALID_CURSOR",
    });
    await expect(ledger.history("owner:alice", { limit: 0 })).rejects.toMatchObject({
      code: "LEDGER_INVALID_INPUT",
    });
    await expect(ledger.history("owner:ghost")).rejects.toMatchObject({
      code: "LEDGER_UNKNOWN_ACCOUNT",
    });
  });

  it("answers point-in-time balances by posting number and by time", async () => {
    const ledger = await seeded(ctx);
    const a = await ledger.transfer({
      idempotencyKey: "a",
      from: "owner:alice",
      to: "owner:bob",
      amount: 10n,
      nowMs: 1_000,
    });
    await ledger.transfer({
      idempotencyKey: "b",
      from: "owner:alice",
      to: "owner:bob",
      amount: 20n,
      nowMs: 2_000,
    });
    expect(await ledger.balanceAt("owner:alice", { seq: a.seq })).toBe(1_000n * DPN - 10n);
    expect(await ledger.balanceAt("owner:alice", { seq: a.seq - 1 })).toBe(1_000n * DPN);
    expect(await ledger.balanceAt("owner:alice", { atMs: 1_999 })).toBe(1_000n * DPN - 10n);
    expect(await ledger.balanceAt("owner:alice", { atMs: 2_000 })).toBe(1_000n * DPN - 30n);
    expect(await ledger.balanceAt("owner:alice", { atMs: 0 })).toBe(0n);
    // A caller whose clock is behind cannot record an entry before the account's last one.
    const late = await ledger.transfer({
      idempotencyKey: "c",
      from: "owner:alice",
      to: "owner:bob",
      amount: 1n,
      nowMs: 1_500,
    });
    expect(late.atMs).toBe(2_000);
  });

  it("snapshots balances under a Merkle root with verifiable proofs", async () => {
    const ledger = await seeded(ctx);
    expect(await ledger.latestSnapshot()).toBeUndefined();
    const snapshot = await ledger.snapshot({ epoch: 7, nowMs: 50 });
    expect(await ledger.latestSnapshot()).toEqual(snapshot);
    // 21 system accounts (12 DPN, 9 of the market) and the 3 seeded user accounts.
    expect(snapshot.leafCount).toBe(24);
    await ledger.transfer({
      idempotencyKey: "after",
      from: "owner:alice",
      to: "owner:bob",
      amount: 1n,
    });
    const { root, proof } = await ledger.proveBalance(7, "owner:alice");
    expect(root).toBe(snapshot.root);
    expect(proof.balance).toBe(1_000n * DPN);
    expect(verifyBalanceProof(root, proof)).toBe(true);
    expect(verifyBalanceProof(root, { ...proof, balance: proof.balance + 1n })).toBe(false);
    const issuance = await ledger.proveBalance(7, SYSTEM_ACCOUNTS.issuance);
    expect(issuance.proof.balance < 0n && verifyBalanceProof(root, issuance.proof)).toBe(true);
    expect(await ledger.snapshotOf(7)).toEqual(snapshot);
    await expect(ledger.snapshot({ epoch: 7 })).rejects.toMatchObject({
      code: "LEDGER_SNAPSHOT_EXISTS",
    });
    await expect(ledger.snapshotOf(8)).rejects.toMatchObject({ code: "LEDGER_UNKNOWN_SNAPSHOT" });
    const later = await ledger.snapshot({ epoch: 8 });
    expect(await ledger.latestSnapshot()).toEqual(later);
  });

  it("keeps everything across a restart and audits on open", async () => {
    const ledger = await seeded(ctx);
    await ledger.placeHold({
      idempotencyKey: "h",
      holdId: "job",
      from: "owner:alice",
      amount: 5n,
      expiresAtMs: 10_000,
      nowMs: 1,
    });
    const reopened = await ctx.reopen(ledger);
    expect(await reopened.balance("owner:alice")).toBe(1_000n * DPN - 5n);
    expect((await reopened.hold("job"))?.status).toBe("open");
    const again = await reopened.transfer({
      idempotencyKey: "fund-alice",
      from: "system:contributors",
      to: "owner:alice",
      amount: 1_000n * DPN,
    });
    expect(again.seq).toBe(2);
    await expectAudited(reopened);
  });

  it("opens accounts idempotently and refuses system or malformed ids", async () => {
    const ledger = await ctx.open();
    const first = await ledger.openAccount("owner:carol", { nowMs: 5 });
    expect(await ledger.openAccount("owner:carol", { nowMs: 9 })).toEqual(first);
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", () =>
      ledger.openAccount("system:escrow"),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", () =>
      ledger.openAccount("owner:"),
    );
    await expectRejectedUnchanged(ledger, "LEDGER_INVALID_ACCOUNT", () =>
      ledger.openAccount(`owner:${"x".repeat(200)}`),
    );
  });
});
