import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  FLIGHTS_3M_PARQUET,
  mergePartials,
  parseSqlQuery,
  runFragmentQuery,
  splitDataset,
} from "@dpn/analytics";
import { isDpnError } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, readAuthorization } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseResult } from "../src/kinds/sqlAnalytics/analytics.ts";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

/**
 * `sql-analytics` jobs end to end: a query over an uploaded Parquet fragment runs on two devices,
 * one of which lies with a self-consistent forged partial; the disagreement places a third
 * replica, the honest majority wins, the liar is outvoted and unpaid, and the merged result is
 * DuckDB's own answer.
 */
const SQL =
  "SELECT origin, count(*), avg(delay) FROM fragment WHERE distance >= 300 GROUP BY origin";
const dir = mkdtempSync(join(tmpdir(), "dpn-analytics-e2e-"));
let node: RunningNode;
let fragment: { path: string; rows: number };

beforeAll(async () => {
  const split = await splitDataset({
    source: FLIGHTS_3M_PARQUET,
    outDir: join(dir, "data"),
    fragments: 1,
    rows: 20_000,
  });
  fragment = { path: split.paths[0] as string, rows: split.rows[0] as number };
  node = await startNode({
    store: testStore(),
    dataDir: join(dir, "node"),
    logLevel: "silent",
    market: false,
  });
}, 60_000);

afterAll(async () => {
  await node?.close();
});

/** A device that runs the query for real, from the fragment it downloads from the node. */
function analyticsDevice(owner: string, geohash: string, lie = false): ProtocolDevice {
  const device: ProtocolDevice = new ProtocolDevice({
    url: node.url,
    owner,
    geohash,
    deviceClass: "phone",
    slots: 1,
    taskTypes: ["sql-analytics"],
    respond: async (lease) => {
      const item = lease.items[0] as { sha256: string; format: "parquet"; query: unknown };
      // A signed read of the device's own: the node sends the fragment only to a leased device.
      const artifact = `/v1/artifacts/${item.sha256}`;
      const bytes = new Uint8Array(
        await (
          await fetch(`${node.url}${artifact}`, {
            headers: { authorization: readAuthorization(device.identity, artifact, Date.now()) },
          })
        ).arrayBuffer(),
      );
      const path = join(dir, `${lease.taskId}.parquet`);
      writeFileSync(path, bytes);
      const { partial } = await runFragmentQuery({ path, format: "parquet" }, item.query);
      if (!lie) {
        const honest = await runFragmentQuery({ path, format: "parquet" }, item.query);
        return [{ partial: honest.partial, digest: honest.digest }];
      }
      // A well-formed forgery with a matching digest (two airports' figures swapped): only a
      // quorum can catch it.
      const forged = structuredClone(partial) as unknown as { groups: Array<{ values: unknown }> };
      const [a, b] = forged.groups;
      if (a !== undefined && b !== undefined) [a.values, b.values] = [b.values, a.values];
      const { canonicalJson, sha256Hex } = await import("@dpn/analytics");
      return [{ partial: forged, digest: sha256Hex(canonicalJson(forged)) }];
    },
  });
  return device;
}

describe("sql-analytics jobs", () => {
  it("outvotes a lying replica with a third one, pays the honest majority and merges DuckDB's answer", async () => {
    const requester = newIdentity();
    const owner = newIdentity();
    await node.ledger.openAccount(`owner:${requester.id}`);
    await node.ledger.transfer({
      idempotencyKey: "fund-analytics",
      from: "system:contributors",
      to: `owner:${requester.id}`,
      amount: 10n ** 20n,
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const sha256 = await client.uploadArtifact(readFileSync(fragment.path));

    // Bad input first: a query that reads a file and one that is not an aggregate are refused.
    for (const [query, code] of [
      ["SELECT count(*) FROM read_csv('/etc/passwd')", "ANALYTICS_QUERY_REJECTED"],
      ["DROP TABLE fragment", "ANALYTICS_QUERY_REJECTED"],
    ] as const) {
      const error = await client
        .submitJob({
          spec: { type: "sql-analytics", query, items: [{ sha256, format: "parquet", rows: 10 }] },
          budget: "1",
          deadlineMs: Date.now() + 60_000,
          clientRef: `bad-${code}-${query.length}`,
        })
        .catch((e: unknown) => e);
      expect(isDpnError(error) ? error.code : error).toBe(code);
    }

    const liar = analyticsDevice(owner.id, "u33d", true);
    const honestA = analyticsDevice(owner.id, "xn76");
    await liar.connect();
    await honestA.connect();
    const job = await client.submitJob({
      spec: {
        type: "sql-analytics",
        query: SQL,
        items: [{ sha256, format: "parquet", rows: fragment.rows }],
      },
      budget: "10",
      deadlineMs: Date.now() + 120_000,
      clientRef: "flights-by-origin",
    });
    expect(job.fragments).toHaveLength(2); // one fragment, two replicas

    // The two replicas disagree: both wait for the quorum, and a third replica is placed.
    const [lied, honest] = await Promise.all([liar.workOnce(), honestA.workOnce()]);
    expect(lied.verdicts[0]).toMatchObject({ accepted: true, code: "QUORUM_PENDING" });
    expect(honest.verdicts[0]).toMatchObject({ accepted: true, code: "QUORUM_PENDING" });
    expect((await client.job(job.jobId)).fragments).toHaveLength(3);

    // A third device takes it; two honest replicas against one: the fragment is accepted.
    const honestB = analyticsDevice(owner.id, "dr5r");
    await honestB.connect();
    const third = await honestB.workOnce();
    expect(third.verdicts[0]?.accepted).toBe(true);
    expect(third.verdicts[0]?.code).toBeUndefined();

    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    expect(done.itemsDone).toBe(1);
    const states = Object.fromEntries(
      done.fragments.map((f) => [f.deviceId ?? "", { state: f.state, reward: f.reward }]),
    );
    expect(states[liar.identity.id]).toMatchObject({ state: "outvoted", reward: null });
    expect(states[honestA.identity.id]?.state).toBe("done");
    expect(states[honestB.identity.id]?.state).toBe("done");
    const devices = (await client.devices()).devices as Array<{
      deviceId: string;
      rejected: number;
      reputation: number;
    }>;
    const liarRow = devices.find((d) => d.deviceId === liar.identity.id);
    const honestRow = devices.find((d) => d.deviceId === honestA.identity.id);
    expect(liarRow?.rejected).toBe(1);
    expect(liarRow?.reputation ?? 1).toBeLessThan(honestRow?.reputation ?? 0);

    // The merged result is DuckDB's own answer over the fragment.
    const { result } = (await client.jobResult(job.jobId)) as unknown as {
      result: { result: unknown };
    };
    const reference = mergePartials(parseSqlQuery(SQL), [
      (await runFragmentQuery({ path: fragment.path, format: "parquet" }, parseSqlQuery(SQL)))
        .partial,
    ]);
    expect(result.result).toEqual(JSON.parse(JSON.stringify(reference)));
    expect((await client.ledgerVerify()).ok).toBe(true);
    for (const d of [liar, honestA, honestB]) d.close();
  }, 120_000);

  it("noises a release with the node's secret, not the public seed, and withholds the partials", async () => {
    const requester = newIdentity();
    const owner = newIdentity();
    await node.ledger.openAccount(`owner:${requester.id}`);
    await node.ledger.transfer({
      idempotencyKey: "fund-analytics-noised",
      from: "system:contributors",
      to: `owner:${requester.id}`,
      amount: 10n ** 20n,
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const sha256 = await client.uploadArtifact(readFileSync(fragment.path));
    const devices = [analyticsDevice(owner.id, "xn76"), analyticsDevice(owner.id, "dr5r")];
    for (const d of devices) await d.connect();
    // A count: its sensitivity is 1, so ε alone sets the noise (sums would need clamp bounds).
    const counted = "SELECT origin, count(*) FROM fragment WHERE distance >= 300 GROUP BY origin";
    const spec = {
      type: "sql-analytics" as const,
      query: counted,
      items: [{ sha256, format: "parquet" as const, rows: fragment.rows }],
      epsilon: 1,
    };
    const job = await client.submitJob({
      spec,
      budget: "10",
      deadlineMs: Date.now() + 120_000,
      clientRef: "flights-noised",
    });
    await Promise.all(devices.map((d) => d.workOnce()));
    expect((await client.waitForJob(job.jobId)).state).toBe("done");
    const released = (await client.jobResult(job.jobId)) as unknown as {
      outputs: unknown[];
      result: { result: unknown; epsilon: number };
    };
    // No exact partial comes back beside the noisy answer.
    expect(released.outputs).toEqual([null]);
    expect(released.result.epsilon).toBe(1);
    // Anyone can redraw noise from the public seed and the exact partial: it is not this noise.
    const exact = (
      await runFragmentQuery({ path: fragment.path, format: "parquet" }, parseSqlQuery(counted))
    ).partial;
    const fromPublicSeed = releaseResult(job.jobId, job.seed, spec, [exact]);
    expect(JSON.parse(JSON.stringify(released.result.result))).not.toEqual(
      JSON.parse(JSON.stringify(fromPublicSeed.result)),
    );
    // The release is fixed once: reading it again gives the same numbers.
    const again = (await client.jobResult(job.jobId)) as unknown as { result: { result: unknown } };
    expect(again.result.result).toEqual(released.result.result);
    for (const d of devices) d.close();
  }, 120_000);
});
