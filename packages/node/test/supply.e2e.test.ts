import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeOptions, type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { TEST_STORE, testStore } from "./stores.ts";

/**
 * Recycling (docs/protocol.md §Supply): each epoch, supply.recycleBps of what was burned since the
 * last replenishment goes back into the emission pool, so devices can be paid for as long as
 * requesters spend. Governed to 0, the pool only empties.
 */
const requester = newIdentity();
const owner = newIdentity();
const running: RunningNode[] = [];
const devices: ProtocolDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.close();
  for (const node of running.splice(0)) await node.close();
});

/** A node where one paid hash job has run: its payment was burned and its reward minted. */
async function afterOneJob(options: Partial<NodeOptions>): Promise<RunningNode> {
  const n = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-supply-")),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
    // Every read of the economics closes an epoch, so the test decides when one ends.
    epochMs: 1,
    challengeIterations: 10_000,
    ...options,
  });
  running.push(n);
  const device = new ProtocolDevice({ url: n.url, owner: owner.id, slots: 1 });
  devices.push(device);
  await device.connect();
  const client = new DpnClient({ url: n.url, identity: requester });
  await client.submitJob({
    spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 1_000 }] },
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef: "supply",
  });
  const { verdicts } = await device.workOnce();
  expect(verdicts.map((v) => v.accepted)).toEqual([true]);
  return n;
}

describe(`supply recycling (${TEST_STORE})`, () => {
  it("re-issues the epoch's burns into the emission pool, once", async () => {
    const n = await afterOneJob({});
    const before = await n.ledger.supply();
    expect(before.burned).toBeGreaterThan(0n);
    await n.bank.economics();
    const after = await n.ledger.supply();
    // Everything burned is back in the pool (an epoch may already have closed after the burn),
    // and the outstanding supply stays under the cap.
    expect(after.replenished).toBe(after.burned);
    expect(after.emissionPool - before.emissionPool).toBe(after.replenished - before.replenished);
    expect(after.outstanding).toBeLessThanOrEqual(after.cap);
    // A later epoch with no new burn re-issues nothing more.
    await n.bank.economics();
    expect((await n.ledger.supply()).replenished).toBe(after.replenished);
    expect((await n.ledger.verify()).ok).toBe(true);
  });

  it("re-issues nothing when governance sets recycling to 0", async () => {
    const n = await afterOneJob({ params: { "supply.recycleBps": 0 } });
    const before = await n.ledger.supply();
    await n.bank.economics();
    const after = await n.ledger.supply();
    expect(before.burned).toBeGreaterThan(0n);
    expect(after.replenished).toBe(0n);
    expect(after.emissionPool).toBe(before.emissionPool);
  });
});
