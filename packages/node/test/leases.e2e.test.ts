import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, readAuthorization } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import type { PriceSource } from "../src/economics/priceSource.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

const requester = newIdentity();
const owner = newIdentity();
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.close();
  node = undefined;
});

function items(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    seed: (i + 7).toString(16).padStart(64, "0"),
    iterations: 10,
  }));
}

/** Reads GET /v1/jobs/:id/events until the node ends the stream; returns the job views. */
async function jobEvents(
  url: string,
  jobId: string,
): Promise<Array<{ state: string; itemsDone: number }>> {
  const path = `/v1/jobs/${jobId}/events`;
  const response = await fetch(`${url}${path}`, {
    headers: { authorization: readAuthorization(requester, path, Date.now()) },
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream");
  const text = await response.text(); // resolves when the node closes the stream
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event: job"))
    .map((block) => JSON.parse(block.split("\ndata: ")[1] ?? "{}"));
}

describe("leases and budgets", () => {
  it("moves a task whose lease expired to another device and pays only the device that returned it", async () => {
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-lease-")),
      logLevel: "silent",
      grants: { [requester.id]: "10" },
      leaseMs: 1_000,
      sweepMs: 100,
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const sleeper = new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "u33d" });
    await sleeper.connect();
    sleeper.send("device.ready", { slots: 1 });
    const job = await client.submitJob({
      spec: { type: "hash", items: items(2) },
      budget: "1",
      deadlineMs: Date.now() + 60_000,
      clientRef: "sleepy",
    });
    const stream = jobEvents(node.url, job.jobId);
    await sleeper.next("node.leases"); // takes the lease and never answers
    const worker = new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "xn76" });
    await worker.connect();
    const { verdicts } = await worker.workOnce();
    expect(verdicts.every((v) => v.accepted)).toBe(true);
    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    expect(done.fragments[0]?.deviceId).toBe(worker.identity.id);
    expect(done.fragments[0]?.attempts).toBe(2);
    // The event stream saw the job live and ended with it.
    const events = await stream;
    expect(events[0]?.state).toBe("open");
    expect(events.at(-1)).toMatchObject({ state: "done", itemsDone: 2 });
    const devices = (await client.devices()).devices;
    expect(devices.find((d) => d.deviceId === sleeper.identity.id)?.reputation).toBeCloseTo(
      0.45,
      12,
    );
    sleeper.close();
    worker.close();
  });

  it("stops a job cleanly when the rate moves past its budget and returns the unspent holds", async () => {
    let computePrice = 1.2e-5;
    const prices: PriceSource = {
      read: async () => ({ dpnPriceUsd: 0.15, computePriceUsdPerCu: computePrice, source: "test" }),
    };
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-budget-")),
      logLevel: "silent",
      grants: { [requester.id]: "10" },
      priceSource: prices,
      epochMs: 1,
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const devices = [
      new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "u33d", slots: 1 }),
      new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "xn76", slots: 1 }),
      new ProtocolDevice({ url: node.url, owner: owner.id, geohash: "dr5r", slots: 1 }),
    ];
    for (const d of devices) await d.connect();
    const quoteJob = {
      spec: { type: "hash" as const, items: items(4) },
      budget: "10",
      deadlineMs: Date.now() + 60_000,
      clientRef: "quote",
    };
    const quoted = await client.submitJob(quoteJob);
    await client.cancelJob(quoted.jobId);
    const before = Number((await client.balance(requester.id)).balance);
    // Budget = the quote: the held funds cover the work only at today's rate.
    const job = await client.submitJob({ ...quoteJob, budget: quoted.quote, clientRef: "tight" });
    expect(job.fragments.length).toBe(2);
    computePrice *= 10; // compute is now ten times dearer: each fragment costs more than its hold
    // Whichever device is given work first (idle capacity may be in cold storage, §4.2).
    const { verdicts } = await Promise.any(devices.map((d) => d.workOnce()));
    expect(verdicts[0]?.accepted).toBe(true);
    // A result that was being verified when the job stopped is still paid: wait for it.
    let stopped = await client.waitForJob(job.jobId);
    while (stopped.fragments.some((f) => f.state === "verifying" || f.state === "settling")) {
      await node.bank.idle();
      stopped = await client.job(job.jobId);
    }
    expect(stopped.state).toBe("budget-exhausted");
    const spent = Number(stopped.spent);
    expect(spent).toBeLessThanOrEqual(Number(quoted.quote));
    expect(Number((await client.balance(requester.id)).balance)).toBeCloseTo(before - spent, 12);
    expect((await client.ledgerVerify()).ok).toBe(true);
    for (const d of devices) d.close();
  });
});
