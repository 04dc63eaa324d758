import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn } from "./processes.ts";

/** `dpn market` as a user runs it: a real process against a running node. */

let node: RunningNode;
const trader = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-market-cli-"));
const keys = join(dir, "identity.json");

beforeAll(async () => {
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [trader.id]: "1000" },
  });
  writeKeyFile(keys, trader);
});

afterAll(async () => {
  await node.close();
});

describe("dpn market", () => {
  it("shows the pool, quotes, swaps, and refuses bad arguments with a code before sending anything", async () => {
    const common = ["--node", node.url];
    // Reads and refusals first (in parallel), then the swap: the reads must see the seeded pool.
    const [pool, quote, side, slippage, amount] = await Promise.all([
      runDpn(["market", "pool", ...common, "--json"]),
      runDpn(["market", "quote", "sell-dpn", "100", ...common]),
      runDpn(["market", "swap", "sideways", "1", "--keys", keys, ...common]),
      runDpn([
        "market",
        "swap",
        "sell-dpn",
        "1",
        "--max-slippage",
        "95",
        "--keys",
        keys,
        ...common,
      ]),
      runDpn(["market", "quote", "buy-dpn", "-3", ...common]),
    ]);
    const swap = await runDpn([
      "market",
      "swap",
      "sell-dpn",
      "100",
      "--keys",
      keys,
      ...common,
      "--json",
    ]);
    expect(pool.code).toBe(0);
    expect(JSON.parse(pool.out)).toMatchObject({ spotPrice: "0.15", reserveDpn: "5000000" });
    expect(quote.code).toBe(0);
    expect(quote.out).toMatch(/^100 DPN → 14\.9\d+ USD/);
    expect(swap.code).toBe(0);
    expect(JSON.parse(swap.out)).toMatchObject({ dpn: "-100" });
    expect(side).toMatchObject({ code: 1 });
    expect(side.err).toContain("CLI_INVALID_ARGUMENT");
    expect(slippage).toMatchObject({ code: 1 });
    expect(slippage.err).toContain("--max-slippage 95 is out of range");
    expect(amount.code).not.toBe(0);
    expect(await node.ledger.balance(`owner:${trader.id}`)).toBe(900n * 10n ** 18n);
  }, 60_000);
});
