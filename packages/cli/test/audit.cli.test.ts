import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { assignFragments } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtocolDevice } from "../../node/test/protocolDevice.ts";
import { runDpn } from "./processes.ts";

/**
 * `dpn job audit`: the node's recorded assignments, re-run with the protocol's assignFragments in
 * another process, match; the record is the requester's (a stranger's read is refused).
 */
let node: RunningNode;
const requester = newIdentity();
const owner = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-audit-cli-"));
const keys = join(dir, "identity.json");
const devices: ProtocolDevice[] = [];

beforeAll(async () => {
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
    params: { "burning.coldStorageShare": 0 },
    challengeIterations: 10_000,
  });
  writeKeyFile(keys, requester);
});

afterAll(async () => {
  for (const d of devices) d.close();
  await node.close();
});

describe("dpn job audit", () => {
  it("re-runs every recorded assignment of a job and finds each pick", async () => {
    for (const geohash of ["u33d", "xn76", "dr5r"]) {
      const device = new ProtocolDevice({ url: node.url, owner: owner.id, geohash, slots: 2 });
      devices.push(device);
      await device.connect();
    }
    const client = new DpnClient({ url: node.url, identity: requester });
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
      clientRef: "audit",
    });
    // Every device asks for work, so the assignment had several candidates to choose from.
    await Promise.all(devices.map((d) => d.workOnce().catch(() => undefined)));
    const record = await client.jobAssignment(job.jobId);
    expect(record.assignments.length).toBeGreaterThan(0);
    expect(record.assignments[0]?.input.candidates.length).toBeGreaterThan(1);
    // A record whose picks were changed does not re-run to itself.
    const first = record.assignments[0];
    if (first === undefined) throw new Error("no assignment recorded");
    const replay = assignFragments(first.input).map((p) => p.deviceId);
    expect(replay).toEqual(first.picks);
    const other = first.input.candidates.find((c) => c.deviceId !== first.picks[0]);
    expect(replay).not.toEqual([other?.deviceId, ...first.picks.slice(1)]);

    const audit = await runDpn(["job", "audit", job.jobId, "--keys", keys, "--node", node.url]);
    expect(audit.code).toBe(0);
    expect(audit.out).toMatch(
      new RegExp(`${record.assignments.length} of ${record.assignments.length} assignments`),
    );
    const stranger = join(dir, "stranger.json");
    writeKeyFile(stranger, newIdentity());
    const refused = await runDpn([
      "job",
      "audit",
      job.jobId,
      "--keys",
      stranger,
      "--node",
      node.url,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/READ_FORBIDDEN/);
  });
});
