import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../../src/server.ts";

/**
 * A signed request replayed after the node restarted: the new run has none of the old run's
 * nonces, so it refuses every envelope issued before it started (docs/protocol.md §Messages),
 * even one whose clientRef would not make it idempotent.
 */
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.close();
  node = undefined;
});

describe("replay across a restart", () => {
  it("refuses an envelope the previous run accepted, and changes nothing", async () => {
    const clock = { t: 1_700_000_000_000 };
    const dataDir = mkdtempSync(join(tmpdir(), "dpn-replay-"));
    const payer = newIdentity();
    const payee = newIdentity();
    const options = {
      store: { kind: "sqlite" as const },
      dataDir,
      logLevel: "silent" as const,
      now: () => clock.t,
      grants: { [payer.id]: "10" },
    };
    node = await startNode(options);
    const client = new DpnClient({ url: node.url, identity: payer, now: () => clock.t });
    const body = JSON.stringify(
      client.signed("transfer", { to: payee.id, amount: "1", clientRef: "r1" }),
    );
    const post = (url: string) =>
      fetch(`${url}/v1/transfers`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    expect((await post(node.url)).status).toBe(200);
    // The same node refuses it from memory.
    const again = await post(node.url);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("ENVELOPE_REPLAYED");

    await node.close();
    clock.t += 1_000; // within the envelope's lifetime and the clock-skew allowance
    node = await startNode(options);
    const replayed = await post(node.url);
    expect(((await replayed.json()) as { code: string }).code).toBe("ENVELOPE_REPLAYED");
    expect(replayed.status).toBe(409);
    const after = new DpnClient({ url: node.url, identity: payer, now: () => clock.t });
    expect((await after.balance(payee.id)).balance).toBe("1");
    // A fresh envelope from the same client is accepted by the new run.
    await expect(after.transfer(payee.id, "1", "r2")).resolves.toMatchObject({ amount: "1" });
  });
});
