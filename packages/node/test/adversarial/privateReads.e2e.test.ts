import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poseidonChain } from "@dpn/circuits";
import { DpnClient, type JobView } from "@dpn/sdk";
import {
  type Identity,
  newIdentity,
  READ_QUERY_PARAM,
  readAuthorization,
  signRead,
} from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../../src/server.ts";
import { ProtocolDevice } from "../protocolDevice.ts";
import { testStore } from "../stores.ts";

/**
 * Reads are private (docs/adr/0015-signed-reads.md): a job, its result and its event stream are
 * read only by a signed read of its requester, the job list holds only the signer's jobs, and a
 * private artifact opens only to its uploader and to a device whose current lease needs it. A
 * refusal says which (401 unsigned, 403 someone else's) and changes nothing.
 */
const alice = newIdentity();
const bob = newIdentity();
const owner = newIdentity();
let node: RunningNode;
let asAlice: DpnClient;
let asBob: DpnClient;
let circuit: { wasm: string; zkey: string; verificationKey: string };
let shared: { wasm: string; zkey: string; verificationKey: string };
let wasmBytes: Uint8Array;
let proofJob: JobView;
let hashJob: JobView;

/** A GET with an optional authorization header; the status, code and headers it answered. */
async function get(path: string, authorization?: string) {
  const response = await fetch(`${node.url}${path}`, {
    ...(authorization === undefined ? {} : { headers: { authorization } }),
  });
  const type = response.headers.get("content-type") ?? "";
  const body = type.startsWith("application/json") ? ((await response.json()) as unknown) : null;
  if (body === null) await response.body?.cancel();
  return {
    status: response.status,
    code: (body as { code?: string } | null)?.code,
    body,
    headers: response.headers,
  };
}

const signedBy = (who: Identity, path: string) => readAuthorization(who, path, Date.now());

const zkSpec = (artifacts: typeof circuit) => ({
  type: "zk-groth16" as const,
  artifacts,
  publicInputs: [],
  items: [{ x: "1" }],
});

/** What a refused read must leave alone: the jobs, the balances and the ledger's totals. */
async function snapshot() {
  return {
    proof: await asAlice.job(proofJob.jobId),
    hash: await asAlice.job(hashJob.jobId),
    alice: await asAlice.balance(alice.id),
    bob: await asBob.balance(bob.id),
    supply: await asAlice.supply(),
  };
}

beforeAll(async () => {
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-private-reads-")),
    logLevel: "silent",
    grants: { [alice.id]: "10", [bob.id]: "10" },
  });
  asAlice = new DpnClient({ url: node.url, identity: alice });
  asBob = new DpnClient({ url: node.url, identity: bob });
  wasmBytes = new Uint8Array(randomBytes(64));
  // A job's zkey and verification key must belong together (ZK_VKEY_MISMATCH): both sets use the
  // example circuit's, the verification key serialized two ways so each set has its own bytes.
  // The zkey is one artifact, published with the shared set; the private ones are the wasm files.
  const zkey = new Uint8Array(readFileSync(poseidonChain.artifacts.zkey));
  const key = JSON.parse(readFileSync(poseidonChain.artifacts.verificationKey, "utf8")) as unknown;
  circuit = {
    wasm: await asAlice.uploadArtifact(wasmBytes),
    zkey: await asAlice.uploadArtifact(zkey),
    verificationKey: await asAlice.uploadArtifact(new TextEncoder().encode(JSON.stringify(key))),
  };
  const published = { public: true } as const;
  shared = {
    wasm: await asAlice.uploadArtifact(new Uint8Array(randomBytes(64)), published),
    zkey: await asAlice.uploadArtifact(zkey, published),
    verificationKey: await asAlice.uploadArtifact(
      new TextEncoder().encode(JSON.stringify(key, null, 2)),
      published,
    ),
  };
  // No device yet: both jobs stay open until the lease part below.
  proofJob = await asAlice.submitJob({
    spec: zkSpec(circuit),
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef: "proof",
  });
  hashJob = await asAlice.submitJob({
    spec: { type: "hash", items: [{ seed: "01".padStart(64, "0"), iterations: 10 }] },
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef: "hash",
  });
});

afterAll(async () => {
  await node.close();
});

describe("private reads", () => {
  it("refuses unsigned reads of a job, its result, its events, the list and a private artifact with 401 READ_UNSIGNED, and changes nothing", async () => {
    const before = await snapshot();
    const id = proofJob.jobId;
    for (const path of [
      `/v1/jobs/${id}`,
      `/v1/jobs/${id}/result`,
      `/v1/jobs/${id}/events`,
      "/v1/jobs",
      `/v1/artifacts/${circuit.wasm}`,
      // A missing artifact is refused alike: a stranger learns nothing of what is stored.
      `/v1/artifacts/${"ab".repeat(32)}`,
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(401);
      expect(answer.code, path).toBe("READ_UNSIGNED");
      expect(answer.headers.get("www-authenticate"), path).toBe("DPN");
      expect((answer.body as { hint?: string }).hint, path).toContain("authorization: DPN");
      expect(JSON.stringify(answer.body), path).not.toContain("    at ");
    }
    expect(await asAlice.jobSummary()).toMatchObject({ jobs: { open: 2 } });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses reads signed by someone else with 403 READ_FORBIDDEN, and lists only the signer's jobs", async () => {
    const before = await snapshot();
    const id = proofJob.jobId;
    for (const path of [
      `/v1/jobs/${id}`,
      `/v1/jobs/${id}/result`,
      `/v1/jobs/${id}/events`,
      `/v1/artifacts/${circuit.wasm}`,
    ]) {
      const answer = await get(path, signedBy(bob, path));
      expect(answer.status, path).toBe(403);
      expect(answer.code, path).toBe("READ_FORBIDDEN");
    }
    expect((await asBob.jobs()).jobs).toEqual([]);
    await expect(asBob.job(id)).rejects.toMatchObject({ code: "READ_FORBIDDEN" });
    await expect(asBob.downloadArtifact(circuit.wasm)).rejects.toMatchObject({
      code: "READ_FORBIDDEN",
    });
    expect(await snapshot()).toEqual(before);
  });

  it("answers the requester's signed reads: the job, its result, its events, its list and its artifact", async () => {
    const id = proofJob.jobId;
    expect((await asAlice.job(id)).requester).toBe(alice.id);
    expect((await asAlice.jobResult(id)).jobId).toBe(id);
    expect(
      (await asAlice.jobs()).jobs.map((j) => j.jobId).sort((a, b) => a.localeCompare(b)),
    ).toEqual([proofJob.jobId, hashJob.jobId].sort((a, b) => a.localeCompare(b)));
    const stream = new AbortController();
    for await (const view of asAlice.jobEvents(id, { signal: stream.signal })) {
      expect(view.jobId).toBe(id);
      break;
    }
    // The token in the query, as a browser's EventSource sends it.
    const path = `/v1/jobs/${id}/events`;
    const events = await fetch(
      `${node.url}${path}?${READ_QUERY_PARAM}=${signRead(alice, path, Date.now())}`,
    );
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toBe("text/event-stream");
    await events.body?.cancel();
    expect(await asAlice.downloadArtifact(circuit.wasm)).toEqual(wasmBytes);
    const artifact = await fetch(asAlice.artifactUrl(circuit.wasm));
    expect(artifact.status).toBe(200);
    expect(artifact.headers.get("cache-control")).toMatch(/^private,/);
    expect(new Uint8Array(await artifact.arrayBuffer())).toEqual(wasmBytes);
  });

  it("binds a token to its path and method: job X's token does not open job Y", async () => {
    const before = await snapshot();
    const x = `/v1/jobs/${proofJob.jobId}`;
    const y = `/v1/jobs/${hashJob.jobId}`;
    for (const [path, token] of [
      [y, signedBy(alice, x)],
      [`${x}/result`, signedBy(alice, x)],
      [`${x}/events`, signedBy(alice, `${x}/result`)],
      [`/v1/artifacts/${circuit.wasm}`, signedBy(alice, `/v1/artifacts/${circuit.zkey}`)],
      ["/v1/jobs", signedBy(alice, x)],
    ] as const) {
      const answer = await get(path, token);
      expect(answer.status, path).toBe(401);
      expect(answer.code, path).toBe("READ_PATH_MISMATCH");
    }
    const garbled = await get(x, "DPN not-a-token!");
    expect([garbled.status, garbled.code]).toEqual([401, "READ_TOKEN_INVALID"]);
    // A signed POST body is not a read: its envelope's kind is refused.
    const transfer = asAlice.signed("transfer", { to: bob.id, amount: "1", clientRef: "x" });
    const asToken = Buffer.from(JSON.stringify(transfer)).toString("base64url");
    const wrongKind = await get(x, `DPN ${asToken}`);
    expect([wrongKind.status, wrongKind.code]).toEqual([400, "MESSAGE_UNEXPECTED"]);
    expect(await snapshot()).toEqual(before);
  });

  it("serves a published artifact unsigned, and lets another requester use it but not a private one", async () => {
    const open = await fetch(`${node.url}/v1/artifacts/${shared.wasm}`);
    expect(open.status).toBe(200);
    expect(open.headers.get("cache-control")).toMatch(/^public,/);
    await open.body?.cancel();
    const before = await asBob.balance(bob.id);
    await expect(
      asBob.submitJob({
        spec: zkSpec({ ...shared, wasm: circuit.wasm }),
        budget: "1",
        deadlineMs: Date.now() + 600_000,
        clientRef: "borrowed",
      }),
    ).rejects.toMatchObject({ code: "ARTIFACT_FORBIDDEN", details: { status: 403 } });
    expect(await asBob.balance(bob.id)).toEqual(before);
    expect((await asBob.jobs()).jobs).toEqual([]);
    const job = await asBob.submitJob({
      spec: zkSpec(shared),
      budget: "1",
      deadlineMs: Date.now() + 600_000,
      clientRef: "shared",
    });
    expect((await asBob.jobs()).jobs.map((j) => j.jobId)).toEqual([job.jobId]);
    // Out of the way of the lease below, which must be of Alice's job.
    expect((await asBob.cancelJob(job.jobId)).state).toBe("cancelled");
  });

  it("sends a private artifact to a device whose current lease needs it, and to no other device", async () => {
    const prover = new ProtocolDevice({
      url: node.url,
      owner: owner.id,
      taskTypes: ["zk-groth16"],
    });
    const hasher = new ProtocolDevice({ url: node.url, owner: owner.id, taskTypes: ["hash"] });
    await prover.connect();
    await hasher.connect();
    const path = `/v1/artifacts/${circuit.wasm}`;
    // Before any lease, neither device may read it.
    expect((await get(path, signedBy(prover.identity, path))).code).toBe("READ_FORBIDDEN");

    prover.send("device.ready", { slots: 1 });
    const { leases } = (await prover.next("node.leases")).body as {
      leases: Array<{ jobId: string; artifacts: Record<string, string> }>;
    };
    expect(leases.map((l) => l.jobId)).toEqual([proofJob.jobId]);
    expect(leases[0]?.artifacts.wasm).toBe(circuit.wasm);
    hasher.send("device.ready", { slots: 1 });
    const hashLeases = (await hasher.next("node.leases")).body as {
      leases: Array<{ jobId: string }>;
    };
    expect(hashLeases.leases.map((l) => l.jobId)).toEqual([hashJob.jobId]);

    const leased = await fetch(`${node.url}${path}`, {
      headers: { authorization: signedBy(prover.identity, path) },
    });
    expect(leased.status).toBe(200);
    expect(new Uint8Array(await leased.arrayBuffer())).toEqual(wasmBytes);
    // A lease of another job opens nothing of this one's.
    const other = await get(path, signedBy(hasher.identity, path));
    expect([other.status, other.code]).toEqual([403, "READ_FORBIDDEN"]);
    // A device's lease is no key to the job itself: that stays the requester's.
    const job = `/v1/jobs/${proofJob.jobId}`;
    expect((await get(job, signedBy(prover.identity, job))).code).toBe("READ_FORBIDDEN");
    prover.close();
    hasher.close();
  });
});
