import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeOptions, type RunningNode, startNode } from "../../src/server.ts";

/**
 * Request limits (docs/protocol.md §Limits): per address (every request) and per signing account
 * (signed requests, counted only once the signatures hold, so nobody spends another's budget).
 * A refusal is a 429 with a code, a retry-after and a hint that says to wait; the SDK waits it out.
 */
const payer = newIdentity();
const other = newIdentity();
const payee = newIdentity();
const running: RunningNode[] = [];

afterEach(async () => {
  for (const node of running.splice(0)) await node.close();
});

async function node(options: Partial<NodeOptions>): Promise<RunningNode> {
  const started = await startNode({
    store: { kind: "sqlite" },
    dataDir: mkdtempSync(join(tmpdir(), "dpn-limits-")),
    logLevel: "silent",
    grants: { [payer.id]: "10", [other.id]: "10" },
    ...options,
  });
  running.push(started);
  return started;
}

describe("request limits", () => {
  it("limits a signing account, not the address, and the SDK waits out the retry-after", async () => {
    const n = await node({ accountRequests: { burst: 3, perSec: 0.5 } });
    const impatient = new DpnClient({ url: n.url, identity: payer, rateLimitRetries: 0 });
    // Forged requests in the payer's name are refused before they could spend its budget.
    for (let i = 0; i < 5; i++) {
      const forged = impatient.signed("transfer", {
        to: payee.id,
        amount: "1",
        clientRef: `f${i}`,
      });
      const body = { ...forged, envelope: { ...(forged.envelope as object), sigEd25519: "AAAA" } };
      const answer = await fetch(`${n.url}/v1/transfers`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).not.toBe(429);
    }
    for (let i = 0; i < 3; i++) await impatient.transfer(payee.id, "1", `t${i}`);
    const refused = await fetch(`${n.url}/v1/transfers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        impatient.signed("transfer", { to: payee.id, amount: "1", clientRef: "t3" }),
      ),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = (await refused.json()) as { code: string; hint: string };
    expect(error.code).toBe("ACCOUNT_RATE_LIMITED");
    expect(error.hint).toMatch(/retry-after/);
    expect(error.hint).not.toMatch(/openapi/);
    // Another account on the same address is not held back.
    await new DpnClient({ url: n.url, identity: other }).transfer(payee.id, "1", "o1");
    const client = new DpnClient({ url: n.url });
    expect((await client.balance(payee.id)).balance).toBe("4");
    // The SDK sends the refused request again after the retry-after, once.
    await new DpnClient({ url: n.url, identity: payer }).transfer(payee.id, "1", "t4");
    expect((await client.balance(payee.id)).balance).toBe("5");
  });

  it("limits an address with a coded 429 whose hint says when to retry", async () => {
    const n = await node({ httpRequestsPerMinute: 5 });
    for (let i = 0; i < 5; i++) expect((await fetch(`${n.url}/v1/node`)).status).toBe(200);
    const refused = await fetch(`${n.url}/v1/node`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = (await refused.json()) as { code: string; hint: string };
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.hint).toMatch(/retry-after/);
    expect(error.hint).not.toMatch(/openapi/);
    // A client that does not retry gets the code, the hint and the wait.
    await expect(new DpnClient({ url: n.url, rateLimitRetries: 0 }).node()).rejects.toMatchObject({
      code: "RATE_LIMITED",
      details: { status: 429 },
    });
  });
});
