import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn } from "./processes.ts";

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
