import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, parseDpn } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFeedsFile } from "../src/economics/feedsFile.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

/**
 * The compute-price oracle end to end (docs/protocol.md §Oracles): a node whose feeds file points
 * three compute feeds at a local HTTP JSON server, one at a configured reference, and one at the
 * bank's own clearing prices. The rate's compute price is the median of the live feeds; garbage
 * from or the loss of the HTTP server keeps the last published price, marked stale with its age.
 */
const EPOCH_MS = 600_000;
let mode: "ok" | "garbage" = "ok";
let server: Server;
let base = "";
let node: RunningNode;
/** The node's clock runs ahead of the wall clock by this: each step opens a new epoch. */
let offsetMs = 0;
const requester = newIdentity();
const owner = newIdentity();

const HTTP_VALUES = { a: 2e-5, b: 3e-5, c: 5e-5 };
const REFERENCE = 4e-5;

beforeAll(async () => {
  server = createServer((_request, response) => {
    if (mode === "garbage") {
      response.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        // Three shapes a price document takes: nested string, bare number, nested number.
        a: { usd_per_cu: String(HTTP_VALUES.a) },
        b: HTTP_VALUES.b,
        c: { quote: { price: HTTP_VALUES.c } },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compute.json`;
  const dir = mkdtempSync(join(tmpdir(), "dpn-compute-price-"));
  const file = join(dir, "feeds.json");
  writeFileSync(
    file,
    JSON.stringify({
      compute: [
        { kind: "http-json", id: "http-a", url: base, path: ["a", "usd_per_cu"] },
        { kind: "http-json", id: "http-b", url: base, path: ["b"] },
        { kind: "http-json", id: "http-c", url: base, path: ["c", "quote", "price"] },
        { kind: "reference", id: "list-price", value: REFERENCE },
        { kind: "clearing", id: "clearing" },
      ],
    }),
  );
  node = await startNode({
    store: testStore(),
    dataDir: join(dir, "node"),
    logLevel: "silent",
    feeds: readFeedsFile(file),
    epochMs: EPOCH_MS,
    now: () => Date.now() + offsetMs,
    grants: { [requester.id]: "1000" },
  });
});

afterAll(async () => {
  await node.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function computeRound(client: DpnClient) {
  const { rounds } = await client.oracle({ oracle: "compute-usd", limit: 1 });
  return rounds[0];
}

/** Moves the node's clock one epoch on, so the next read runs both oracles' rounds. */
function nextEpoch(): void {
  offsetMs += EPOCH_MS;
}

describe("the compute-price oracle", () => {
  const client = () => new DpnClient({ url: node.url, identity: requester });

  it("prices compute at the median of its live feeds, and the rate follows it", async () => {
    const epoch = await client().economics();
    // Nothing has cleared yet: four live feeds, the median is the mean of the middle two.
    const expected = median([...Object.values(HTTP_VALUES), REFERENCE]);
    expect(expected).toBeCloseTo(3.5e-5, 15);
    expect(epoch.prices.computePriceUsdPerCu).toBeCloseTo(expected, 15);
    expect(epoch.rate.anchorCuPerDpn).toBeCloseTo(0.15 / expected, 6);
    expect(epoch.prices.compute).toEqual({
      status: "median",
      stale: false,
      ageMs: 0,
      simulated: false,
    });
    const round = await computeRound(client());
    expect(round?.liveFeeds).toEqual(["http-a", "http-b", "http-c", "list-price"]);
    expect(round?.rejected).toEqual([{ feedId: "clearing", reason: "ORACLE_FEED_NO_CLEARING" }]);
  });

  it("labels the default DPN/USD feeds simulated, and the configured compute feeds not", async () => {
    const prices = await client().prices();
    const [dpn, compute] = prices.oracles;
    expect(prices.simulated).toBe(true);
    expect(dpn?.name).toBe("dpn-usd");
    expect(dpn?.simulated).toBe(true);
    expect(dpn?.feeds.filter((f) => f.simulated).map((f) => [f.id, f.kind])).toEqual([
      ["dpn-simulated-1", "simulated"],
      ["dpn-simulated-2", "simulated"],
      ["dpn-simulated-3", "simulated"],
    ]);
    // No feed is named after a real oracle service it does not read.
    for (const feed of dpn?.feeds ?? []) {
      expect(feed.id).not.toMatch(/chainlink|pyth|band|api3|uniswap/i);
    }
    expect((await client().economics()).prices.simulated).toBe(true);
    expect(compute?.simulated).toBe(false);
    expect(compute?.feeds.map((f) => f.kind)).toEqual([
      "http-json",
      "http-json",
      "http-json",
      "reference",
      "clearing",
    ]);
    expect(compute?.price?.value).toBeCloseTo(3.5e-5, 15);
  });

  it("reads the bank's own clearing price once jobs have been paid", async () => {
    const device = new ProtocolDevice({ url: node.url, owner: owner.id, deviceClass: "server" });
    await device.connect();
    const before = parseDpn((await client().balance(requester.id)).balance);
    const job = await client().submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 4 }, (_, i) => ({
          seed: i.toString(16).padStart(64, "0"),
          iterations: 50_000,
        })),
      },
      budget: "50",
      deadlineMs: Date.now() + 600_000,
      clientRef: "clearing",
    });
    const { verdicts } = await device.workOnce();
    expect(verdicts.every((v) => v.accepted)).toBe(true);
    const done = await client().waitForJob(job.jobId);
    expect(done.state).toBe("done");
    device.close();
    // What the requester was charged (the holds' rest came back) per CU of the job.
    const charged = before - parseDpn((await client().balance(requester.id)).balance);
    expect(charged).toBeGreaterThan(0n);
    const dpnPerCu = Number(charged) / Number(parseDpn("1")) / done.cu;

    nextEpoch();
    const epoch = await client().economics();
    const clearing = dpnPerCu * epoch.prices.dpnPriceUsd;
    const round = await computeRound(client());
    expect(round?.liveFeeds).toContain("clearing");
    expect(round?.median).toBeCloseTo(
      median([...Object.values(HTTP_VALUES), REFERENCE, clearing]),
      15,
    );
    expect(epoch.prices.computePriceUsdPerCu).toBe(round?.value);
  });

  it("keeps the last price, stale with its age, when the HTTP feed answers garbage", async () => {
    const published = await client().economics();
    mode = "garbage";
    nextEpoch();
    const held = await client().economics();
    expect(held.prices.computePriceUsdPerCu).toBe(published.prices.computePriceUsdPerCu);
    expect(held.prices.compute).toEqual({
      status: "held",
      stale: true,
      ageMs: held.atMs - published.atMs,
      simulated: false,
    });
    const round = await computeRound(client());
    expect(round?.status).toBe("failed");
    expect(round?.stale).toBe(true);
    expect(round?.rejected).toEqual([
      { feedId: "http-a", reason: "ORACLE_FEED_NOT_JSON" },
      { feedId: "http-b", reason: "ORACLE_FEED_NOT_JSON" },
      { feedId: "http-c", reason: "ORACLE_FEED_NOT_JSON" },
    ]);
    const view = (await client().prices()).oracles[1];
    expect(view?.price).toEqual({
      value: published.prices.computePriceUsdPerCu,
      status: "held",
      publishedAtMs: published.atMs,
      ageMs: held.atMs - published.atMs,
      stale: true,
    });

    // The feed recovers: the next round publishes again, fresh.
    mode = "ok";
    nextEpoch();
    expect((await client().economics()).prices.compute?.stale).toBe(false);
  });

  it("keeps the last price when the HTTP server is gone", async () => {
    const published = await client().economics();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    nextEpoch();
    nextEpoch();
    const held = await client().economics();
    expect(held.prices.computePriceUsdPerCu).toBe(published.prices.computePriceUsdPerCu);
    // Two epochs on (and the test's own running time, on the node's clock).
    expect(held.prices.compute?.ageMs).toBe(held.atMs - published.atMs);
    expect(held.prices.compute?.ageMs).toBeGreaterThanOrEqual(2 * EPOCH_MS);
    expect(held.prices.compute?.stale).toBe(true);
    const round = await computeRound(client());
    expect(round?.rejected.map((r) => r.reason)).toEqual([
      "ORACLE_FEED_UNREACHABLE",
      "ORACLE_FEED_UNREACHABLE",
      "ORACLE_FEED_UNREACHABLE",
    ]);
    // Restarted for afterAll's close.
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
});
