import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDpnError } from "@dpn/protocol";
import { MAX_CLIENT_REF_LENGTH, newIdentity } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningNode, startNode } from "../../node/src/server.ts";
import { ProtocolDevice } from "../../node/test/protocolDevice.ts";
import { DpnClient } from "../src/client.ts";

/**
 * The SDK against a real node: every method's answer passes the route's response schema (a
 * mismatch would reject with CLIENT_RESPONSE_INVALID), a job is followed through its event stream
 * while a device works on it over the real channel, and refusals keep the node's codes.
 */
const requester = newIdentity();
const owner = newIdentity();
let node: RunningNode;
let client: DpnClient;
let device: ProtocolDevice;

function hashJob(items: number, clientRef: string) {
  return {
    spec: {
      type: "hash" as const,
      items: Array.from({ length: items }, (_, i) => ({
        seed: (i + 1).toString(16).padStart(64, "0"),
        iterations: 500,
      })),
    },
    budget: "10",
    deadlineMs: Date.now() + 600_000,
    clientRef,
  };
}

beforeAll(async () => {
  node = await startNode({
    dataDir: mkdtempSync(join(tmpdir(), "dpn-sdk-")),
    port: 0,
    logLevel: "silent",
    grants: { [requester.id]: "100" },
    // Every read of the rate closes an epoch, so the rate, oracle and reserve have records.
    epochMs: 1,
  });
  client = new DpnClient({ url: node.url, identity: requester });
  device = new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "u33d" });
  await device.connect();
});

afterAll(async () => {
  device?.close();
  await node?.close();
});

describe("DpnClient against a node", () => {
  it("reads the node, devices, economics, ledger and market through their schemas", async () => {
    const info = await client.node();
    expect(info.devicesOnline).toBe(1);
    expect((await client.devices()).devices).toMatchObject([
      { deviceId: device.identity.id, owner: owner.id, geohash: "u33d", online: true },
    ]);
    const rate = await client.economics();
    expect(rate.rate.cuPerDpn).toBeGreaterThan(0);
    await client.economics();
    expect((await client.rates({ limit: 2 })).epochs.length).toBeGreaterThan(0);
    expect((await client.oracle({ limit: 5 })).rounds.length).toBeGreaterThan(0);
    const compute = await client.oracle({ oracle: "compute-usd", limit: 1 });
    expect(compute.rounds[0]?.oracle).toBe("compute-usd");
    const prices = await client.prices();
    expect(prices.oracles.map((o) => [o.name, o.simulated])).toEqual([
      ["dpn-usd", true],
      ["compute-usd", true],
    ]);
    const supply = await client.supply();
    expect(BigInt(supply.issued)).toBeGreaterThan(0n);
    expect((await client.economicsSupply()).circulation).toMatch(/^\d+$/);
    expect((await client.ledgerVerify()).ok).toBe(true);
    const pool = await client.pool();
    expect(Number(pool.reserveDpn)).toBeGreaterThan(0);
    expect(Number((await client.quote("sell-dpn", "1")).amountOut)).toBeGreaterThan(0);
    const reserve = await client.reserve({ limit: 3 });
    expect(reserve.operations.length).toBeLessThanOrEqual(3);
    const account = await client.balance(requester.id);
    expect(account).toMatchObject({ id: requester.id, balance: "100", openHolds: 0 });
  });

  it("follows a job through its event stream until it is done, then reads its result", async () => {
    const submitted = await client.submitJob(hashJob(4, "sdk-events"));
    expect(submitted.state).toBe("open");
    const seen: string[] = [];
    let work: Promise<void> | undefined;
    for await (const job of client.jobEvents(submitted.jobId)) {
      seen.push(`${job.state}:${job.itemsDone}`);
      // The device starts once the stream has sent the open view, so every change is live.
      work ??= (async () => {
        while ((await client.job(submitted.jobId)).state === "open") await device.workOnce();
      })();
    }
    await work;
    expect(seen[0]).toMatch(/^open:/);
    expect(seen.at(-1)).toBe("done:4");
    const result = await client.jobResult(submitted.jobId);
    expect(result.outputs).toHaveLength(4);
    expect((await client.jobs()).jobs.map((j) => j.jobId)).toContain(submitted.jobId);
    const history = await client.history(owner.id, { limit: 1 });
    expect(history.entries).toHaveLength(1);
    expect(Number(history.entries[0]?.amount)).toBeGreaterThan(0);
  });

  it("waits for a job over its event stream, without polling its view", async () => {
    const submitted = await client.submitJob(hashJob(3, "sdk-wait"));
    const fetches = vi.spyOn(globalThis, "fetch");
    try {
      const progress: string[] = [];
      const waiting = client.waitForJob(submitted.jobId, (j) =>
        progress.push(`${j.state}:${j.itemsDone}`),
      );
      // The node's own view (not HTTP), so every request counted below is waitForJob's.
      while ((await node.bank.jobView(submitted.jobId)).state === "open") await device.workOnce();
      expect((await waiting).state).toBe("done");
      expect(progress.at(-1)).toBe("done:3");
      const urls = fetches.mock.calls.map(([url]) => String(url));
      expect(urls.filter((u) => u.includes(`/v1/jobs/${submitted.jobId}/events`))).toHaveLength(1);
      expect(urls.filter((u) => u.endsWith(`/v1/jobs/${submitted.jobId}`))).toHaveLength(0);
    } finally {
      fetches.mockRestore();
    }
  });

  it("stops following a job when the signal aborts", async () => {
    const job = await client.submitJob(hashJob(1, "sdk-abort"));
    const controller = new AbortController();
    const views: string[] = [];
    const error = await (async () => {
      for await (const view of client.jobEvents(job.jobId, { signal: controller.signal })) {
        views.push(view.state);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(views).toEqual(["open"]);
    expect((error as Error).name).toBe("AbortError");
    expect((await client.cancelJob(job.jobId)).state).toBe("cancelled");
  });

  it("keeps the node's codes for refusals, before a stream and on signed requests", async () => {
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => "resolved",
        (error: unknown) => (isDpnError(error) ? error.code : String(error)),
      );
    expect(await codeOf(client.jobEvents("job_0000000000000000").next())).toBe("JOB_NOT_FOUND");
    const missing = await client.job("job_0000000000000000").catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: "JOB_NOT_FOUND",
      details: { status: 404, docs: "docs/errors.md#job_not_found" },
    });
    expect(await codeOf(client.transfer(owner.id, "1000", "sdk-too-much"))).toBe(
      "LEDGER_INSUFFICIENT_FUNDS",
    );
    // The longest reference the schema admits fits the ledger's key; one more is refused up front.
    const longest = "r".repeat(MAX_CLIENT_REF_LENGTH);
    expect(await client.transfer(owner.id, "1", longest)).toMatchObject({ amount: "1" });
    const before = (await client.balance(requester.id)).balance;
    expect(await codeOf(client.transfer(owner.id, "1", `${longest}r`))).toBe("MESSAGE_INVALID");
    expect((await client.balance(requester.id)).balance).toBe(before);
    const sent = await client.transfer(owner.id, "1", "sdk-transfer");
    expect(sent).toMatchObject({ from: requester.id, to: owner.id, amount: "1" });
    const bytes = new TextEncoder().encode("an artifact");
    const sha256 = await client.uploadArtifact(bytes);
    // Private: its URL carries the uploader's signed read; the bare path is refused.
    const download = await fetch(client.artifactUrl(sha256));
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
    expect(await client.downloadArtifact(sha256)).toEqual(bytes);
    expect((await fetch(`${node.url}/v1/artifacts/${sha256}`)).status).toBe(401);
  });
});
