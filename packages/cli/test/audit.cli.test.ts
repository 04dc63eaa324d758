import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { assignFragments, assignmentSeed, GENESIS_EPOCH_ROOT } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import {
  type Envelope,
  envelopeDigest,
  type JobAssignmentResponse,
  newIdentity,
  parseEnvelope,
} from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtocolDevice } from "../../node/test/protocolDevice.ts";
import { auditJob, renderAudit } from "../src/jobAudit.ts";
import { runDpn } from "./processes.ts";

/**
 * `dpn job audit` (docs/protocol.md §Assignment seed): it recomputes a real job's seed from the
 * signed submission and the ledger's sealed epoch and re-runs every recorded assignment with it.
 * Through a proxy that rewrites the node's answer (a node lying about its record), every changed
 * input fails the check that names it, and a record made consistent around another seed fails on
 * the seed: the audit recomputes the seed rather than reading it. The command runs as a process
 * where its exit code and output are the point; the other cases call its audit (auditJob, what
 * the command runs) in this process, against the same node, since each process start costs
 * seconds.
 */
/** Each `dpn` process compiles the CLI through tsx first: tens of seconds on a loaded machine. */
const CLI_TEST_MS = 240_000;
let node: RunningNode;
let proxy: Server;
let proxyUrl: string;
/** How the proxy rewrites GET /v1/jobs/{id}/assignment; none: it forwards the answer as it is. */
let tamper: ((record: JobAssignmentResponse) => JobAssignmentResponse) | undefined;
const requester = newIdentity();
const owner = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-audit-cli-"));
const keys = join(dir, "identity.json");
const devices: ProtocolDevice[] = [];
let client: DpnClient;

beforeAll(async () => {
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
    params: { "burning.coldStorageShare": 0 },
    challengeIterations: 10_000,
    // No periodic sweep, so no epoch is sealed but those the tests seal (bank.sealEpoch).
    sweepMs: 3_600_000,
  });
  writeKeyFile(keys, requester);
  for (const geohash of ["u33d", "xn76", "dr5r"]) {
    const device = new ProtocolDevice({ url: node.url, owner: owner.id, geohash, slots: 2 });
    devices.push(device);
    await device.connect();
  }
  client = new DpnClient({ url: node.url, identity: requester });
  proxy = createServer((request, response) => {
    void (async () => {
      const answer = await fetch(`${node.url}${request.url}`, {
        method: request.method ?? "GET",
        headers:
          request.headers.authorization === undefined
            ? {}
            : { authorization: request.headers.authorization },
      });
      let body = await answer.text();
      if (tamper !== undefined && answer.ok && /\/assignment$/.test(request.url ?? "")) {
        body = JSON.stringify(tamper(JSON.parse(body) as JobAssignmentResponse));
      }
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(body);
    })();
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const d of devices) d.close();
  await new Promise((resolve) => proxy.close(resolve));
  await node.close();
});

/**
 * A hash job of four items, once the scheduler has placed its tasks: on devices that are online
 * but have not asked for work, so every device is a candidate and each assignment had a choice.
 */
async function runJob(clientRef: string): Promise<string> {
  const job = await client.submitJob({
    spec: {
      type: "hash",
      items: Array.from({ length: 4 }, (_, i) => ({
        seed: (i + 1).toString(16).padStart(64, "0"),
        iterations: 100,
      })),
    },
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef,
  });
  await node.bank.idle();
  return job.jobId;
}

function audit(jobId: string, url = node.url) {
  return runDpn(["job", "audit", jobId, "--keys", keys, "--node", url]);
}

/** The command's audit in this process, through the proxy: whether it passed, and its text. */
async function auditHere(jobId: string): Promise<{ ok: boolean; out: string }> {
  const result = await auditJob(new DpnClient({ url: proxyUrl, identity: requester }), jobId);
  return { ok: result.ok, out: renderAudit(result) };
}

/** The record's assignments re-drawn from `seed`: what a node that chose `seed` would record. */
function redrawn(record: JobAssignmentResponse, seed: string): JobAssignmentResponse {
  return {
    ...record,
    seed,
    assignments: record.assignments.map((a) => {
      const input = { ...a.input, seed: `${seed}${a.input.seed.slice(record.seed.length)}` };
      return { ...a, input, picks: assignFragments(input).map((p) => p.deviceId) };
    }),
  };
}

let genesisJob: string;
let sealedJob: string;

describe("dpn job audit", () => {
  it(
    "recomputes the seed of a job accepted before any seal from the genesis root",
    async () => {
      genesisJob = await runJob("audit-genesis");
      const record = await client.jobAssignment(genesisJob);
      expect(record.assignments.length).toBeGreaterThan(0);
      expect(record.assignments[0]?.input.candidates.length).toBeGreaterThan(1);
      const inputs = record.seedInputs;
      if (inputs === null) throw new Error("no seed inputs recorded");
      expect(inputs.epoch).toEqual({ epoch: 0, root: GENESIS_EPOCH_ROOT, sealedAtMs: null });
      const envelope = parseEnvelope(inputs.submission.envelope);
      expect(envelope.from).toBe(requester.id);
      expect(record.seed).toBe(
        assignmentSeed({
          submissionDigest: envelopeDigest(envelope),
          epochRoot: GENESIS_EPOCH_ROOT,
        }),
      );

      const result = await audit(genesisJob);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/pass {2}submission digest/);
      expect(result.out).toMatch(
        /pass {2}requester's signature: ML-DSA-44 verifies, Ed25519 verifies/,
      );
      expect(result.out).toMatch(/pass {2}epoch root: no epoch was sealed: the genesis root/);
      expect(result.out).toMatch(/pass {2}last sealed epoch: epoch 1 is not sealed/);
      expect(result.out).toMatch(/pass {2}seed: /);
      const n = record.assignments.length;
      expect(result.out).toMatch(new RegExp(`${n} of ${n} assignments`));
      expect(result.out).toMatch(/the audit passed/);

      const stranger = join(dir, "stranger.json");
      writeKeyFile(stranger, newIdentity());
      const refused = await runDpn([
        "job",
        "audit",
        genesisJob,
        "--keys",
        stranger,
        "--node",
        node.url,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/READ_FORBIDDEN/);
    },
    CLI_TEST_MS,
  );

  it("draws a later job's seed from the last sealed epoch, checked against the ledger", async () => {
    const first = await node.bank.sealEpoch();
    expect(first.epoch).toBe(1);
    sealedJob = await runJob("audit-sealed");
    // Sealed after the job: the job's seed keeps the epoch it read at acceptance.
    const second = await node.bank.sealEpoch();
    expect(second.epoch).toBe(2);
    const record = await client.jobAssignment(sealedJob);
    const inputs = record.seedInputs;
    if (inputs === null) throw new Error("no seed inputs recorded");
    expect(inputs.epoch).toEqual({ epoch: 1, root: first.root, sealedAtMs: first.sealedAtMs });
    expect((await client.ledgerEpoch(1)).root).toBe(first.root);
    const digest = envelopeDigest(parseEnvelope(inputs.submission.envelope));
    expect(record.seed).toBe(assignmentSeed({ submissionDigest: digest, epochRoot: first.root }));

    const result = await audit(sealedJob);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /pass {2}epoch root: epoch 1's root is 0x[0-9a-f]{64} in the ledger/,
    );
    expect(result.out).toMatch(/pass {2}last sealed epoch: epoch 2 was sealed at \d+, not before/);
    expect(result.out).toMatch(/the audit passed/);
    // The genesis job still audits: epoch 1 was sealed after it was accepted.
    expect((await audit(genesisJob)).code).toBe(0);
  });

  it(
    "fails a record whose seed inputs were changed, naming the check",
    async () => {
      const otherRoot = `0x${"ab".repeat(32)}`;
      const cases: Array<{
        readonly job: () => string;
        readonly change: (r: JobAssignmentResponse) => JobAssignmentResponse;
        readonly fails: RegExp;
      }> = [
        {
          // The genesis job claims a sealed root it never read.
          job: () => genesisJob,
          change: (r) => withEpoch(r, { epoch: 0, root: otherRoot, sealedAtMs: null }),
          fails: /FAIL {2}epoch root: epoch 0 is the genesis root/,
        },
        {
          job: () => sealedJob,
          change: (r) => withEpoch(r, { ...inputsOf(r).epoch, root: otherRoot }),
          fails:
            /FAIL {2}epoch root: the ledger's epoch 1 has root 0x[0-9a-f]{64} sealed at \d+; the record says 0xabab/,
        },
        {
          job: () => sealedJob,
          change: (r) => ({
            ...r,
            seedInputs: { ...inputsOf(r), submissionDigest: "cd".repeat(32) },
          }),
          fails:
            /FAIL {2}submission digest: SHA-256 of the signed submission's bytes is [0-9a-f]{64}, the record says cdcd/,
        },
        {
          // A node that drew from a seed of its own choosing and recorded picks consistent with
          // it: every assignment re-runs to its picks, and only the recomputed seed tells.
          job: () => sealedJob,
          change: (r) => redrawn(r, "ef".repeat(32)),
          fails:
            /FAIL {2}seed: recomputed [0-9a-f]{64} from the submission and epoch 1's root, the record says efef/,
        },
        {
          // A forged submission (a higher budget) with its digest and seed made to match: only
          // the requester's signature tells.
          job: () => sealedJob,
          change: (r) => {
            const inputs = inputsOf(r);
            const envelope = inputs.submission.envelope as unknown as Envelope;
            const forged = {
              ...envelope,
              payload: envelope.payload.replace('"budget":"1"', '"budget":"2"'),
            };
            const digest = envelopeDigest(forged);
            const seed = assignmentSeed({ submissionDigest: digest, epochRoot: inputs.epoch.root });
            return redrawn(
              {
                ...r,
                seedInputs: {
                  ...inputs,
                  submission: { ...inputs.submission, envelope: { ...forged } },
                  submissionDigest: digest,
                },
              },
              seed,
            );
          },
          fails:
            /FAIL {2}requester's signature: ML-DSA-44 does not verify, Ed25519 does not verify/,
        },
      ];
      for (const c of cases) {
        tamper = c.change;
        const result = await auditHere(c.job());
        tamper = undefined;
        expect(result.out).toMatch(c.fails);
        expect(result.out).toMatch(/the audit FAILED/);
        expect(result.ok).toBe(false);
      }
      // The command itself: the self-consistent record around another seed exits 1, saying why.
      const forged = cases[3];
      if (forged === undefined) throw new Error("no forged-seed case");
      tamper = forged.change;
      const result = await audit(sealedJob, proxyUrl);
      tamper = undefined;
      expect(result.out).toMatch(forged.fails);
      // Re-running the record alone (all the audit did before it recomputed seeds) finds no fault.
      expect(result.out).toMatch(
        /assignment 1: re-runs to its recorded picks, but from a seed that is not the recomputed job seed/,
      );
      expect(result.out).toMatch(/the audit FAILED/);
      expect(result.code).toBe(1);
    },
    CLI_TEST_MS,
  );

  it("fails a job whose seed read an epoch older than the last sealed at its acceptance", async () => {
    // Epoch 2 was sealed before this job: a node that recorded epoch 1 (with its true root and
    // a seed recomputed from it) chose among two roots, which the audit sees.
    const jobId = await runJob("audit-stale");
    const one = await client.ledgerEpoch(1);
    tamper = (r) => {
      const inputs = inputsOf(r);
      const digest = inputs.submissionDigest;
      const staled = withEpoch(r, { epoch: 1, root: one.root, sealedAtMs: one.atMs });
      return redrawn(staled, assignmentSeed({ submissionDigest: digest, epochRoot: one.root }));
    };
    const result = await auditHere(jobId);
    tamper = undefined;
    expect(result.out).toMatch(/pass {2}epoch root/);
    expect(result.out).toMatch(/pass {2}seed/);
    expect(result.out).toMatch(
      /FAIL {2}last sealed epoch: epoch 2 was sealed at \d+, before the job was accepted at \d+: the seed should have read it/,
    );
    expect(result.ok).toBe(false);
    expect((await auditHere(jobId)).ok).toBe(true);
  });
});

function inputsOf(record: JobAssignmentResponse): NonNullable<JobAssignmentResponse["seedInputs"]> {
  if (record.seedInputs === null) throw new Error("no seed inputs recorded");
  return record.seedInputs;
}

function withEpoch(
  record: JobAssignmentResponse,
  epoch: NonNullable<JobAssignmentResponse["seedInputs"]>["epoch"],
): JobAssignmentResponse {
  return { ...record, seedInputs: { ...inputsOf(record), epoch } };
}
