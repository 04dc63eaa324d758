import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  exampleInputs,
  expectedPublicSignals,
  loadVerificationKey,
  poseidonChain,
} from "@dpn/circuits";
import { type RunningNode, startNode } from "@dpn/node";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnDpn, until } from "./processes.ts";

/**
 * The bank with real processes on loopback: device agents run as `dpn worker` processes, one is
 * killed with SIGKILL in the middle of its task, and the job still completes with every task paid
 * exactly once.
 */
const requester = newIdentity();
const owner = newIdentity();
let node: RunningNode;
let client: DpnClient;
let dir: string;
const workers: ChildProcess[] = [];

function worker(name: string, geohash: string): { child: ChildProcess; id: string } {
  const keys = join(dir, `${name}.json`);
  const identity = newIdentity();
  writeKeyFile(keys, identity);
  const child = spawnDpn([
    "worker",
    "--node",
    node.url,
    "--keys",
    keys,
    "--owner",
    owner.id,
    "--class",
    "server",
    "--geohash",
    geohash,
    "--slots",
    "1",
    "--cache-dir",
    join(dir, "cache"),
    "--log-level",
    "silent",
  ]);
  workers.push(child);
  return { child, id: identity.id };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dpn-processes-"));
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
    leaseMs: 60_000,
  });
  client = new DpnClient({ url: node.url, identity: requester });
});

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await node.close();
});

describe("the bank with device processes", () => {
  it("moves a killed device's task to another device; the job completes and nothing is paid twice", async () => {
    const victims = [worker("a", "u33d"), worker("b", "xn76"), worker("c", "dr5r")];
    await until("three devices online", async () =>
      (await client.node()).devicesOnline === 3 ? true : undefined,
    );
    // Eight items of ~1-2 s each: ⌈log2 3⌉ = 2 fragments of 4, so each fragment runs for seconds.
    const items = Array.from({ length: 8 }, (_, i) => ({
      seed: (i + 1).toString(16).padStart(64, "0"),
      iterations: 500_000,
    }));
    const job = await client.submitJob({
      spec: { type: "hash", items },
      budget: "10",
      deadlineMs: Date.now() + 300_000,
      clientRef: "kill",
    });
    const leased = await until("a leased fragment", async () =>
      (await client.job(job.jobId)).fragments.find(
        (f) => f.state === "leased" && f.deviceId !== null,
      ),
    );
    const victim = victims.find((v) => v.id === leased.deviceId);
    expect(victim).toBeDefined();
    victim?.child.kill("SIGKILL");
    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    const moved = done.fragments.find((f) => f.taskId === leased.taskId);
    expect(moved?.deviceId).not.toBe(leased.deviceId);
    expect(moved?.attempts).toBeGreaterThanOrEqual(2);
    // Paid once per task: one mint posting per task id, rewards add up to the owner's balance.
    for (const fragment of done.fragments) {
      expect(await node.ledger.postingByKey(`${fragment.taskId}:mint`)).toBeDefined();
      expect(await node.ledger.postingByKey(`${fragment.taskId}:pay`)).toBeDefined();
    }
    const rewards = done.fragments.reduce((sum, f) => sum + Number(f.reward ?? "0"), 0);
    expect(Number((await client.balance(owner.id)).balance)).toBeCloseTo(rewards, 12);
    expect((await client.ledgerVerify()).ok).toBe(true);
  });

  it("proves a Groth16 batch on device processes; every proof verifies and proves the requested statement", async () => {
    worker("d", "6gyf");
    await until("a device online", async () =>
      (await client.node()).devicesOnline >= 1 ? true : undefined,
    );
    const inputs = exampleInputs("processes", 4);
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    const job = await client.submitJob({
      spec: {
        type: "zk-groth16",
        artifacts,
        constraints: poseidonChain.constraints,
        publicInputs: ["h0"],
        items: inputs.map((i) => ({ h0: i.h0, x: [...i.x] })),
      },
      budget: "10",
      deadlineMs: Date.now() + 300_000,
      clientRef: "zk",
    });
    expect((await client.waitForJob(job.jobId)).state).toBe("done");
    const { outputs } = await client.jobResult(job.jobId);
    const vkey = await loadVerificationKey();
    for (const [i, output] of outputs.entries()) {
      const { proof, publicSignals } = output as {
        proof: snarkjs.Groth16Proof;
        publicSignals: string[];
      };
      expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true);
      expect(publicSignals).toEqual(
        await expectedPublicSignals(inputs[i] ?? inputs[0] ?? { h0: "0", x: [] }),
      );
    }
  });
});
