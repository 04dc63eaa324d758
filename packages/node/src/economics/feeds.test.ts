import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isDpnError } from "@dpn/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createFeed,
  defaultComputeFeeds,
  defaultDpnFeeds,
  type FeedConfig,
  type FeedContext,
  httpJsonFeed,
  MAX_FEED_BYTES,
  type OracleName,
  randomWalkFeed,
  referenceFeed,
} from "./feeds.ts";

// Building a feed reads nothing: the context is only used by a round's read.
const context = {} as FeedContext;

function codeOf(config: unknown, oracle: OracleName = "dpn-usd"): string {
  try {
    createFeed(config as FeedConfig, context, oracle);
  } catch (error) {
    return isDpnError(error) ? error.code : String(error);
  }
  return "accepted";
}

async function readCode(read: Promise<unknown>): Promise<string> {
  try {
    await read;
  } catch (error) {
    return isDpnError(error) ? error.code : String(error);
  }
  return "read";
}

/** A real local server answering each path with a canned body (or never, for /hang). */
let server: Server;
let base = "";
const BODIES: Record<string, [number, string]> = {
  "/ok": [200, JSON.stringify({ data: { price: "0.151" } })],
  "/number": [200, "0.2"],
  "/html": [200, "<html>down for maintenance</html>"],
  "/missing": [200, JSON.stringify({ data: {} })],
  "/negative": [200, JSON.stringify({ data: { price: -1 } })],
  "/words": [200, JSON.stringify({ data: { price: "about 0.15" } })],
  "/error": [503, "unavailable"],
  "/huge": [200, JSON.stringify({ pad: "x".repeat(MAX_FEED_BYTES), data: { price: 1 } })],
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = BODIES[request.url ?? ""];
    if (body === undefined) return; // /hang: never answers
    response.writeHead(body[0]).end(body[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("oracle feeds", () => {
  it("refuses an unknown kind, a kind of the other oracle and bad fields with a code", () => {
    expect(codeOf({ kind: "telepathy", id: "x" })).toBe("ORACLE_FEED_UNKNOWN");
    expect(codeOf({ kind: "clearing", id: "c" }, "dpn-usd")).toBe("ORACLE_FEED_UNKNOWN");
    expect(codeOf({ kind: "amm-twap", id: "a" }, "compute-usd")).toBe("ORACLE_FEED_UNKNOWN");
    expect(codeOf({ kind: "reference", id: "BAD ID", value: 1 })).toBe("ORACLE_FEED_INVALID");
    expect(codeOf({ kind: "reference", id: "g", value: -1 })).toBe("ORACLE_FEED_INVALID");
    expect(codeOf({ kind: "http-json", id: "h", url: "file:///etc/passwd", path: [] })).toBe(
      "ORACLE_FEED_INVALID",
    );
    expect(
      codeOf({ kind: "http-json", id: "h", url: "http://x", path: [], timeoutMs: 60_000 }),
    ).toBe("ORACLE_FEED_INVALID");
    expect(codeOf({ kind: "reference", id: "g", value: 0.15 })).toBe("accepted");
    expect(codeOf({ kind: "clearing", id: "c" }, "compute-usd")).toBe("accepted");
  });

  it("reads a price at a path, as a decimal string or a bare number", async () => {
    expect((await httpJsonFeed("h", `${base}/ok`, ["data", "price"]).read(7)).value).toBe(0.151);
    expect(await httpJsonFeed("h", `${base}/number`, []).read(7)).toEqual({
      feedId: "h",
      value: 0.2,
      observedAtMs: 7,
    });
  });

  it("fails each bad answer with its own code", async () => {
    const code = (path: string, timeoutMs?: number) =>
      readCode(httpJsonFeed("h", `${base}${path}`, ["data", "price"], timeoutMs).read(0));
    expect(await code("/html")).toBe("ORACLE_FEED_NOT_JSON");
    expect(await code("/missing")).toBe("ORACLE_FEED_NO_VALUE");
    expect(await code("/negative")).toBe("ORACLE_FEED_NO_VALUE");
    expect(await code("/words")).toBe("ORACLE_FEED_NO_VALUE");
    expect(await code("/error")).toBe("ORACLE_FEED_HTTP_STATUS");
    expect(await code("/huge")).toBe("ORACLE_FEED_TOO_LARGE");
    expect(await code("/hang", 50)).toBe("ORACLE_FEED_TIMEOUT");
    // A port nothing listens on: the server's own port once it is closed is not knowable, so
    // port 9 (discard), which loopback refuses.
    expect(await readCode(httpJsonFeed("h", "http://127.0.0.1:9/", []).read(0))).toBe(
      "ORACLE_FEED_UNREACHABLE",
    );
  });

  it("walks a simulated price deterministically; a reference is its constant, always fresh", async () => {
    const a = randomWalkFeed("sim", "seed", 0.15, 0.01);
    const b = randomWalkFeed("sim", "seed", 0.15, 0.01);
    const later = 3_600_000 * 48;
    await a.read(0);
    await b.read(0);
    const [va, vb] = [(await a.read(later)).value, (await b.read(later)).value];
    expect(va).toBe(vb);
    expect(va).not.toBe(0.15); // 48 hourly steps moved it
    expect(va).toBeGreaterThan(0);
    expect(await referenceFeed("ref", 1.2e-5).read(30)).toEqual({
      feedId: "ref",
      value: 1.2e-5,
      observedAtMs: 30,
    });
  });

  it("labels every default walk simulated and names none after a real oracle", () => {
    for (const feed of [...defaultDpnFeeds(0.15), ...defaultComputeFeeds()]) {
      expect(feed.id).not.toMatch(/chainlink|pyth|band|api3|uniswap/i);
      if (feed.kind === "simulated") expect(feed.id).toContain("simulated");
    }
    expect(defaultComputeFeeds().map((f) => f.kind)).toEqual([
      "clearing",
      "simulated",
      "simulated",
      "simulated",
      "reference",
    ]);
  });
});
