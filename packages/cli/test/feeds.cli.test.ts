import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { DpnClient } from "@dpn/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn, spawnDpn } from "./processes.ts";

/** `dpn node --feeds` and the price views as a user runs them: real processes. */

const dir = mkdtempSync(join(tmpdir(), "dpn-feeds-cli-"));
let node: RunningNode;

beforeAll(async () => {
  node = await startNode({ dataDir: join(dir, "node"), logLevel: "silent" });
});

afterAll(async () => {
  await node.close();
});

describe("dpn node --feeds", () => {
  it("refuses a bad feeds file with its code and exit 2, before any node starts", async () => {
    const notJson = join(dir, "not-json.json");
    writeFileSync(notJson, "{ dpn: [");
    const wrongKind = join(dir, "wrong-kind.json");
    writeFileSync(wrongKind, JSON.stringify({ compute: [{ kind: "amm-twap", id: "amm" }] }));
    const common = ["--data-dir", join(dir, "never"), "--port", "0"];
    const [bad, kind, missing] = await Promise.all([
      runDpn(["node", "--feeds", notJson, ...common]),
      runDpn(["node", "--feeds", wrongKind, ...common]),
      runDpn(["node", "--feeds", join(dir, "absent.json"), ...common]),
    ]);
    for (const run of [bad, kind, missing]) {
      expect(run.code).toBe(2);
      expect(run.err).toContain("ORACLE_FEEDS_FILE_INVALID");
      expect(run.err).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect(bad.err).toContain("not JSON");
    expect(kind.err).toContain("compute.0.kind: the compute-usd oracle takes");
    expect(missing.err).toContain("cannot be read (ENOENT)");
  }, 60_000);
});

/** Collects a child's stderr until a line matches `done`; every line read so far. */
function stderrUntil(child: ChildProcess, done: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (done.test(text)) resolve(text);
    });
    child.once("exit", (code) => reject(new Error(`dpn node exited (${code}): ${text}`)));
  });
}

describe("dpn node --feeds <good file>", () => {
  it("starts a node whose compute price is the median of the file's feeds, and prints its feeds", async () => {
    const feedServer = createServer((_request, response) => {
      response.writeHead(200).end(JSON.stringify({ usd: 3e-5 }));
    });
    await new Promise<void>((resolve) => feedServer.listen(0, "127.0.0.1", resolve));
    const port = (feedServer.address() as AddressInfo).port;
    const file = join(dir, "good.json");
    writeFileSync(
      file,
      JSON.stringify({
        compute: [
          { kind: "http-json", id: "local", url: `http://127.0.0.1:${port}/`, path: ["usd"] },
          { kind: "reference", id: "low", value: 1e-5 },
          { kind: "reference", id: "mid", value: 2e-5 },
          { kind: "reference", id: "high", value: 6e-5 },
        ],
      }),
    );
    const child = spawnDpn(
      [
        "node",
        "--feeds",
        file,
        "--port",
        "0",
        "--data-dir",
        join(dir, "good-node"),
        "--log-level",
        "silent",
      ],
      "pipe",
    );
    try {
      const banner = await stderrUntil(child, /oracle compute-usd .*\n/);
      const url = /listening on (http:\/\/\S+)/.exec(banner)?.[1] ?? "";
      expect(banner).toMatch(
        /oracle dpn-usd \[USD\/DPN\]: .*dpn-simulated-1 \(simulated\).* SIMULATED feeds/,
      );
      expect(banner).toMatch(
        /oracle compute-usd \[USD\/CU\]: local \(http-json\), low \(reference\), mid \(reference\), high \(reference\)\n/,
      );
      const epoch = await new DpnClient({ url }).economics();
      expect(epoch.prices.computePriceUsdPerCu).toBeCloseTo((2e-5 + 3e-5) / 2, 15);
      expect(epoch.prices.compute?.simulated).toBe(false);
    } finally {
      child.kill("SIGTERM");
      feedServer.closeAllConnections();
      await new Promise<void>((resolve) => feedServer.close(() => resolve()));
    }
  }, 60_000);
});

describe("dpn economics", () => {
  it("labels simulated feeds and prices of the default node", async () => {
    const [prices, rate, json] = await Promise.all([
      runDpn(["economics", "prices", "--node", node.url]),
      runDpn(["economics", "rate", "--node", node.url]),
      runDpn(["economics", "prices", "--node", node.url, "--json"]),
    ]);
    expect(prices.code).toBe(0);
    expect(prices.out).toMatch(/^compute-usd .* USD\/CU \[median\] SIMULATED inputs$/m);
    expect(prices.out).toMatch(/^ {2}compute-simulated-1 +simulated {2}\(simulated/m);
    expect(prices.out).toMatch(/^ {2}clearing +clearing$/m);
    expect(prices.out).toContain("not market measurements");
    expect(rate.out).toMatch(/compute [0-9.e-]+ USD\/CU \[median, SIMULATED inputs\]/);
    expect(JSON.parse(json.out).simulated).toBe(true);
  }, 60_000);
});
