import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FeedConfig } from "../src/economics/feeds.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

/** The live exchange rate: fed by five oracle feeds over HTTP, moved by the measured network. */
let feedServer: Server;
let feedUrl: string;
const prices: Record<string, number | "fail"> = {};
let node: RunningNode | undefined;
const requester = newIdentity();

beforeAll(async () => {
  feedServer = createServer((request, response) => {
    const id = (request.url ?? "/").slice(1);
    const price = prices[id];
    if (price === "fail" || price === undefined) {
      response.writeHead(503).end("down");
      return;
    }
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ data: { price: String(price) } }));
  });
  await new Promise<void>((resolve) => feedServer.listen(0, "127.0.0.1", resolve));
  feedUrl = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await node?.close();
  node = undefined;
});

afterAll(async () => {
  await new Promise<void>((resolve) => feedServer.close(() => resolve()));
});

function httpFeeds(ids: readonly string[]): FeedConfig[] {
  return ids.map((id) => ({
    kind: "http-json",
    id,
    url: `${feedUrl}/${id}`,
    path: ["data", "price"],
  }));
}

describe("the live exchange rate", () => {
  it("takes the median of five HTTP feeds, ignoring a lying feed and a dead one, and records every round", async () => {
    Object.assign(prices, { a: 0.14, b: 0.141, c: 0.139, liar: 90, dead: "fail" });
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-oracle-")),
      logLevel: "silent",
      feeds: { dpn: httpFeeds(["a", "b", "c", "liar", "dead"]) },
      epochMs: 1,
    });
    const client = new DpnClient({ url: node.url });
    const economics = await client.economics();
    const snapshot = economics as unknown as {
      prices: { dpnPriceUsd: number; source: string };
      rate: { discountIndex: number };
    };
    expect(snapshot.prices.dpnPriceUsd).toBeCloseTo(0.1405, 12); // median of the four live feeds
    expect(snapshot.prices.source).toContain("liar(http-json)");
    const { rounds } = (await client.request("GET", "/v1/economics/oracle")) as {
      rounds: Array<{
        status: string;
        liveFeeds: string[];
        rejected: Array<{ feedId: string; reason: string }>;
      }>;
    };
    expect(rounds[0]?.status).toBe("median");
    expect(rounds[0]?.liveFeeds).toEqual(["a", "b", "c", "liar"]);
    expect(rounds[0]?.rejected).toEqual([{ feedId: "dead", reason: "ORACLE_FEED_HTTP_STATUS" }]);
  });

  it("keeps the last price when fewer than three feeds are live, and says so", async () => {
    Object.assign(prices, { a: 0.15, b: 0.15, c: 0.15 });
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-oracle-")),
      logLevel: "silent",
      feeds: { dpn: httpFeeds(["a", "b", "c"]) },
      epochMs: 1,
    });
    const client = new DpnClient({ url: node.url });
    await client.economics();
    Object.assign(prices, { a: "fail", b: "fail", c: 0.5 });
    // Epochs of 1 ms: a later read opens a new one, whose oracle round fails.
    const lastRound = async () => {
      await client.economics();
      const { rounds } = (await client.request("GET", "/v1/economics/oracle")) as {
        rounds: Array<{ status: string }>;
      };
      return rounds[0]?.status;
    };
    await expect.poll(lastRound).toBe("failed");
    const after = await client.economics();
    expect(after.prices.dpnPriceUsd).toBe(0.15);
    expect(after.prices.dpn).toMatchObject({ status: "held", stale: true, simulated: false });
  });

  it("has no rate before its oracle ever had three live feeds, and says which code", async () => {
    Object.assign(prices, { a: "fail", b: "fail", c: 0.15 });
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-oracle-")),
      logLevel: "silent",
      feeds: { dpn: httpFeeds(["a", "b", "c"]) },
      epochMs: 1,
    });
    const client = new DpnClient({ url: node.url });
    await expect(client.economics()).rejects.toMatchObject({ code: "ORACLE_NO_PRICE" });
  });

  it("applies MSF when rigs exceed 5% of the capacity online and EHF when long-tail devices exceed 60%", async () => {
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-rate-")),
      logLevel: "silent",
      epochMs: 1,
    });
    const client = new DpnClient({ url: node.url });
    const server = new ProtocolDevice({
      url: node.url,
      owner: "dpn_".padEnd(44, "0"),
      deviceClass: "server",
      geohash: "u33d",
    });
    await server.connect();
    const rate = (await client.economics()).rate;
    expect([rate.msf, rate.ehf]).toEqual([1, 1]);
    const rig = new ProtocolDevice({
      url: node.url,
      owner: "dpn_".padEnd(44, "0"),
      deviceClass: "rig",
      geohash: "dr5r",
    });
    await rig.connect();
    // The next epoch (1 ms) counts the rig.
    await expect.poll(async () => (await client.economics()).rate.msf).toBe(1.2);
    rig.close();
    const phones = [
      new ProtocolDevice({
        url: node.url,
        owner: "dpn_".padEnd(44, "0"),
        deviceClass: "phone",
        geohash: "r3gx",
      }),
      new ProtocolDevice({
        url: node.url,
        owner: "dpn_".padEnd(44, "0"),
        deviceClass: "phone",
        geohash: "xn76",
      }),
    ];
    for (const phone of phones) await phone.connect();
    // Once the node has seen the rig's socket close: 2 of 3 online are long-tail.
    await expect
      .poll(async () => {
        const { msf, ehf } = (await client.economics()).rate;
        return [msf, ehf];
      })
      .toEqual([1, 1.1]);
    server.close();
    for (const phone of phones) phone.close();
  });

  it("leases nothing to a device in cold storage, whatever credit it holds, until released (§4.2)", async () => {
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-standby-")),
      logLevel: "silent",
      epochMs: 1,
      challengeIterations: 10_000,
      grants: { [requester.id]: "200" },
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const owner = "dpn_".padEnd(44, "0");
    const devices = ["u33d", "xn76", "dr5r", "r3gx"].map(
      (geohash) =>
        new ProtocolDevice({ url: node?.url ?? "", owner, deviceClass: "server", geohash }),
    );
    for (const d of devices) await d.connect();
    await expect.poll(async () => (await client.economics()).burning.level).toBe("excess");
    const standbyIds = new Set(
      (await client.devices()).devices.filter((d) => d.standby).map((d) => d.deviceId),
    );
    expect(standbyIds.size).toBeGreaterThan(0);
    // Every device asks for work, the stored ones too; the job's fragments all go elsewhere.
    for (const d of devices) d.send("device.ready", { slots: 4 });
    const job = await client.submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 8 }, (_, i) => ({
          seed: (i + 1).toString(16).padStart(64, "0"),
          iterations: 1_000,
        })),
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "while-stored",
    });
    const leasedTo = await expect
      .poll(async () => {
        const { fragments } = await client.job(job.jobId);
        return fragments.every((f) => f.deviceId !== null) ? fragments.map((f) => f.deviceId) : [];
      })
      .not.toEqual([])
      .then(async () => (await client.job(job.jobId)).fragments.map((f) => f.deviceId));
    expect(leasedTo.filter((id) => id !== null && standbyIds.has(id))).toEqual([]);
    // A backlog far above the active capacity is a shortage: a stored device is released, and the
    // credit it has held all along is answered with leases.
    await client.submitJob({
      spec: {
        type: "hash",
        items: Array.from({ length: 640 }, (_, i) => ({
          seed: i.toString(16).padStart(64, "a"),
          iterations: 5_000_000,
        })),
      },
      budget: "100",
      deadlineMs: Date.now() + 600_000,
      clientRef: "backlog",
    });
    await expect.poll(async () => (await client.economics()).burning.level).toBe("shortage");
    const stored = devices.filter((d) => standbyIds.has(d.identity.id));
    await Promise.any(stored.map((d) => d.next("node.leases")));
    for (const d of devices) d.close();
  });

  it("puts idle capacity in cold storage in excess and brings it back in a shortage (§4.2)", async () => {
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-cold-")),
      logLevel: "silent",
      epochMs: 1,
      grants: { [requester.id]: "100" },
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const owner = "dpn_".padEnd(44, "0");
    const devices = ["u33d", "xn76", "dr5r", "r3gx"].map(
      (geohash) =>
        new ProtocolDevice({ url: node?.url ?? "", owner, deviceClass: "server", geohash }),
    );
    for (const d of devices) await d.connect();
    await expect.poll(async () => (await client.economics()).burning.level).toBe("excess");
    const standby = () =>
      client.devices().then((r) => r.devices.filter((d) => d.standby === true).length);
    const stored = await standby();
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(devices.length); // never everyone
    // A large backlog: queued demand far above the active capacity is a shortage (6,400 CU, in
    // items each as large as one task may be to verify, MAX_VERIFY_CU_PER_TASK).
    const items = Array.from({ length: 640 }, (_, i) => ({
      seed: i.toString(16).padStart(64, "0"),
      iterations: 5_000_000,
    }));
    await client.submitJob({
      spec: { type: "hash", items },
      budget: "100",
      deadlineMs: Date.now() + 600_000,
      clientRef: "backlog",
    });
    // (The submission itself opened an epoch measured before the work was queued: still excess.)
    const beforeShortage = await standby();
    await expect.poll(async () => (await client.economics()).burning.level).toBe("shortage");
    expect(await standby()).toBeLessThan(beforeShortage);
    for (const d of devices) d.close();
  });
});
