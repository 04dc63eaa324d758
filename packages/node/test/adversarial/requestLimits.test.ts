import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PARAMS, isDpnError } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../../src/server.ts";
import { testStore } from "../stores.ts";

/**
 * Requests that cost the bank more than they are worth, or that the ledger cannot represent, are
 * refused at the API with a code before any state changes: dust transfers, far deadlines
 * (MAX_SAFE_INTEGER leaked a ledger message), and swap guards wider than the governed maximum.
 */
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.close();
  node = undefined;
});

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isDpnError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("request limits", () => {
  it("refuses dust transfers, far deadlines and over-wide swap guards, changing nothing", async () => {
    const clock = { t: 1_700_000_000_000 };
    const user = newIdentity();
    const other = newIdentity();
    node = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-limits-")),
      logLevel: "silent",
      now: () => clock.t,
      grants: { [user.id]: "1000" },
      market: { poolDpn: "1000000", poolStable: "150000", reserveStable: "100000" },
    });
    const client = new DpnClient({ url: node.url, identity: user, now: () => clock.t });
    const before = await client.balance(user.id);
    const history = await client.history(user.id);

    const dust = await rejection(client.transfer(other.id, "0.000000000000000001", "dust"));
    expect(dust.code).toBe("TRANSFER_TOO_SMALL");
    // The governed minimum itself passes.
    await expect(client.transfer(other.id, "0.000001", "smallest")).resolves.toMatchObject({
      amount: "0.000001",
    });

    const spec = { type: "hash" as const, items: [{ seed: "00".repeat(32), iterations: 10 }] };
    for (const deadlineMs of [
      Number.MAX_SAFE_INTEGER,
      clock.t + 10 * 365 * 86_400_000,
      clock.t + DEFAULT_PARAMS.requests.maxJobDeadlineMs + 1,
    ]) {
      const far = await rejection(
        client.submitJob({ spec, budget: "1", deadlineMs, clientRef: `far-${deadlineMs}` }),
      );
      expect(far.code).toBe("JOB_DEADLINE_TOO_FAR");
      expect(far.message).not.toMatch(/ledger|hold|expir/i);
    }

    const wide = await rejection(
      client.swap({ side: "sell-dpn", amountIn: "1", maxSlippageBps: 9_000, clientRef: "wide" }),
    );
    expect(wide.code).toBe("MARKET_SLIPPAGE_TOO_WIDE");
    const beyond = await rejection(
      client.swap({ side: "sell-dpn", amountIn: "1", maxSlippageBps: 9_001, clientRef: "beyond" }),
    );
    expect(beyond.code).toBe("MESSAGE_INVALID");

    // Only the one valid transfer moved anything.
    const after = await client.balance(user.id);
    expect(Number(before.balance) - Number(after.balance)).toBeCloseTo(0.000001, 9);
    expect((await client.history(user.id)).entries.length).toBe(history.entries.length + 1);
    expect((await client.jobs()).jobs).toEqual([]);
  });
});
