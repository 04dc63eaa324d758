import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";

/**
 * Sealed ledger epochs (docs/protocol.md §Sealed epochs): the sweep seals the next epoch once
 * per ledgerEpochMs on the node's clock, numbered from 1, and anyone reads a sealed one at
 * GET /v1/ledger/epochs/{n}. The clock is injected and the sweep called by hand.
 */
const EPOCH_MS = 60_000;
let clock = Date.now();
let node: RunningNode;
let client: DpnClient;

beforeAll(async () => {
  node = await startNode({
    dataDir: mkdtempSync(join(tmpdir(), "dpn-epochs-")),
    logLevel: "silent",
    now: () => clock,
    ledgerEpochMs: EPOCH_MS,
    sweepMs: 3_600_000,
  });
  client = new DpnClient({ url: node.url });
});

afterAll(async () => {
  await node.close();
});

describe("sealed epochs", () => {
  it("are sealed by the sweep once per interval and served to anyone", async () => {
    await expect(client.ledgerEpoch(1)).rejects.toMatchObject({ code: "EPOCH_NOT_SEALED" });
    await node.bank.sweep();
    const first = await client.ledgerEpoch(1);
    expect(first).toEqual(await node.ledger.snapshotOf(1));
    expect(first.atMs).toBe(clock);

    clock += EPOCH_MS - 1;
    await node.bank.sweep();
    await expect(client.ledgerEpoch(2)).rejects.toMatchObject({ code: "EPOCH_NOT_SEALED" });

    clock += 1;
    await node.bank.sweep();
    const second = await client.ledgerEpoch(2);
    expect(second.atMs).toBe(clock);
    expect(second.root).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await node.ledger.latestSnapshot()).toEqual(second);
  });

  it("refuses an epoch number that is not a positive integer", async () => {
    for (const bad of ["0", "-1", "1.5", "x"]) {
      const answer = await fetch(`${node.url}/v1/ledger/epochs/${bad}`);
      expect(answer.status, bad).toBe(400);
    }
  });
});
