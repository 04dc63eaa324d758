import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { type JobSubmit, newIdentity, seal } from "@dpn/wire";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { testStore } from "./stores.ts";

/**
 * Bad input never crashes the node and never changes state: every malformed, oversized,
 * out-of-range or wrongly signed request gets a 4xx with a machine-readable code, and the ledger
 * is exactly as it was.
 */
const requester = newIdentity();
const stranger = newIdentity();
let node: RunningNode;
let client: DpnClient;

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  const response = await fetch(`${node.url}${path}`, { method: "POST", headers, body });
  const json = (await response.json()) as { code?: unknown; message?: unknown };
  return { status: response.status, json };
}

async function ledgerState(): Promise<string> {
  const supply = await node.ledger.supply();
  const postings = await node.ledger.postings({ afterSeq: 0, limit: 1000 });
  return JSON.stringify({ supply, last: postings.at(-1)?.seq }, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
}

function signedBody(kind: string, body: unknown, who = requester) {
  return {
    envelope: seal(who, kind, body, { nowMs: Date.now() }),
    keys: {
      ed25519PublicKey: Buffer.from(who.ed25519PublicKey).toString("base64"),
      mldsa44PublicKey: Buffer.from(who.mldsa44PublicKey).toString("base64"),
    },
  };
}

beforeAll(async () => {
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-fuzz-")),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
  });
  client = new DpnClient({ url: node.url, identity: requester });
});

afterAll(async () => {
  await node.close();
});

describe("the HTTP API under bad input", () => {
  it("answers arbitrary JSON with a 4xx and a code, and changes nothing", async () => {
    const before = await ledgerState();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v1/jobs", "/v1/transfers", "/v1/jobs/x/cancel"),
        fc.json(),
        async (path, body) => {
          const { status, json } = await post(path, body);
          expect(status).toBeGreaterThanOrEqual(400);
          expect(status).toBeLessThan(500);
          expect(typeof json.code).toBe("string");
        },
      ),
      { numRuns: 60 },
    );
    expect(await ledgerState()).toBe(before);
  });

  it("refuses well-signed job bodies with out-of-range fields, with the field named", async () => {
    const before = await ledgerState();
    const item = fc.record({ seed: fc.string(), iterations: fc.oneof(fc.integer(), fc.double()) });
    const spec = fc.record({
      type: fc.constantFrom("hash", "zk-groth16", "nope"),
      items: fc.array(item, { maxLength: 3 }),
    });
    const submit = fc.record({
      spec,
      budget: fc.oneof(
        fc.constant("-1"),
        fc.constant("1e9"),
        fc.constant("0.0000000000000000001"),
        fc.string(),
      ),
      deadlineMs: fc.oneof(fc.integer(), fc.constant(-5)),
      clientRef: fc.string({ maxLength: 200 }),
    });
    await fc.assert(
      fc.asyncProperty(submit, async (body) => {
        const { status, json } = await post(
          "/v1/jobs",
          JSON.stringify(signedBody("job.submit", body)),
        );
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expect(json.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 40 },
    );
    expect(await ledgerState()).toBe(before);
  });

  it("refuses a request signed by one identity but sent with another's keys, and a replay", async () => {
    const good = signedBody("transfer", { to: stranger.id, amount: "1", clientRef: "r1" });
    const swapped = { ...good, keys: signedBody("transfer", {}, stranger).keys };
    expect((await post("/v1/transfers", JSON.stringify(swapped))).json.code).toBe(
      "IDENTITY_INVALID",
    );
    expect((await post("/v1/transfers", JSON.stringify(good))).status).toBe(200);
    const replay = await post("/v1/transfers", JSON.stringify(good));
    expect(replay.status).toBe(409);
    expect(replay.json.code).toBe("ENVELOPE_REPLAYED");
    expect((await client.balance(stranger.id)).balance).toBe("1");
  });

  it("refuses an oversized body and unknown routes with codes", async () => {
    const big = await post("/v1/jobs", JSON.stringify({ pad: "x".repeat(5 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(typeof big.json.code).toBe("string");
    const missing = await fetch(`${node.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("HTTP_NOT_FOUND");
  });

  it("rejects a job whose budget is below the quote, naming the quote", async () => {
    const before = await ledgerState();
    const job: JobSubmit = {
      spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 5_000_000 }] },
      budget: "0.000000000000000001",
      deadlineMs: Date.now() + 60_000,
      clientRef: "cheap",
    };
    await expect(client.submitJob(job)).rejects.toMatchObject({ code: "JOB_BUDGET_TOO_LOW" });
    expect(await ledgerState()).toBe(before);
  });
});
