import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleInputs, poseidonChain, terminateSnarkjsCurve } from "@dpn/circuits";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, seal } from "@dpn/wire";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

const requester = newIdentity();
const deviceOwner = newIdentity();
let node: RunningNode;
let client: DpnClient;

function hashJob(items: number, clientRef: string, budget = "10") {
  return {
    spec: {
      type: "hash" as const,
      items: Array.from({ length: items }, (_, i) => ({
        seed: i.toString(16).padStart(64, "0"),
        iterations: 1000,
      })),
    },
    budget,
    deadlineMs: Date.now() + 600_000,
    clientRef,
  };
}

beforeAll(async () => {
  node = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-node-")),
    logLevel: process.env.DPN_TEST_LOG ?? "silent",
    grants: { [requester.id]: "1000" },
  });
  client = new DpnClient({ url: node.url, identity: requester });
});

afterAll(async () => {
  await node.close();
  await terminateSnarkjsCurve();
});

describe("bank node end to end (real sockets, real ledger)", () => {
  it("registers a device, runs a hash job, pays the device and burns the payment", async () => {
    const device = new ProtocolDevice({
      url: node.url,
      owner: deviceOwner.id,
      deviceClass: "server",
    });
    const registered = await device.connect();
    expect(registered.kind).toBe("node.registered");
    const job = await client.submitJob(hashJob(8, "job-1"));
    expect(job.state).toBe("open");
    const { verdicts } = await device.workOnce();
    expect(verdicts.every((v) => v.accepted)).toBe(true);
    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    expect(Number((await client.balance(deviceOwner.id)).balance)).toBeGreaterThan(0);
    const supply = await client.supply();
    expect(BigInt(supply.burned as string)).toBeGreaterThan(0n);
    expect((await client.ledgerVerify()).ok).toBe(true);
    device.close();
  });

  it("rejects a forged result, lowers the device's reputation and pays nothing for it", async () => {
    const liar = new ProtocolDevice({
      url: node.url,
      owner: deviceOwner.id,
      tamper: (outputs) => outputs.map(() => ({ digest: "0".repeat(64) })),
    });
    await liar.connect();
    const before = (await client.balance(deviceOwner.id)).balance;
    const job = await client.submitJob(hashJob(2, "job-forged"));
    const { verdicts } = await liar.workOnce();
    expect(verdicts[0]?.accepted).toBe(false);
    expect(verdicts[0]?.code).toBe("RESULT_WRONG");
    expect((await client.balance(deviceOwner.id)).balance).toBe(before);
    const devices = (await client.devices()).devices;
    expect(devices.find((d) => d.deviceId === liar.identity.id)?.reputation).toBe(0.25);
    liar.close();
    await client.cancelJob(job.jobId);
  });

  it("refuses a Groth16 job whose verification key is not its zkey's, before any device works", async () => {
    const key = JSON.parse(readFileSync(poseidonChain.artifacts.verificationKey, "utf8")) as {
      IC: string[][];
    };
    // The same key with one point of IC replaced by another of its points: well-formed, not the zkey's.
    const wrongKey = { ...key, IC: [key.IC[1], ...key.IC.slice(1)] };
    const [input] = exampleInputs("wrong-key", 1);
    if (input === undefined) throw new Error("no inputs");
    const before = await client.balance(requester.id);
    const submitted = client.submitJob({
      spec: {
        type: "zk-groth16",
        artifacts: {
          wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
          zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
          verificationKey: await client.uploadArtifact(
            new TextEncoder().encode(JSON.stringify(wrongKey)),
          ),
        },
        constraints: poseidonChain.constraints,
        publicInputs: ["h0"],
        items: [{ h0: input.h0, x: [...input.x] }],
      },
      budget: "10",
      deadlineMs: Date.now() + 600_000,
      clientRef: "wrong-key",
    });
    await expect(submitted).rejects.toMatchObject({ code: "ZK_VKEY_MISMATCH" });
    expect(await client.balance(requester.id)).toEqual(before);
  });

  it("rejects a fabricated Groth16 proof and a real proof of another statement", async () => {
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    const [asked, other] = exampleInputs("forgery", 2);
    if (asked === undefined || other === undefined) throw new Error("no inputs");
    const spec = {
      type: "zk-groth16" as const,
      artifacts,
      constraints: poseidonChain.constraints,
      publicInputs: ["h0"],
      items: [{ h0: asked.h0, x: [...asked.x] }],
    };
    const fabricated = new ProtocolDevice({
      url: node.url,
      owner: deviceOwner.id,
      respond: async () => [
        {
          proof: {
            pi_a: ["1", "2", "1"],
            pi_b: [
              ["1", "2"],
              ["3", "4"],
              ["1", "0"],
            ],
            pi_c: ["1", "2", "1"],
            protocol: "groth16",
            curve: "bn128",
          },
          publicSignals: ["5", asked.h0],
        },
      ],
    });
    await fabricated.connect();
    const job = await client.submitJob({
      spec,
      budget: "10",
      deadlineMs: Date.now() + 60_000,
      clientRef: "zk-forged",
    });
    expect((await fabricated.workOnce()).verdicts[0]?.code).toBe("PROOF_INVALID");
    fabricated.close();

    // A genuine proof, but of a different statement (another h0): valid, and still refused.
    const wrongStatement = new ProtocolDevice({
      url: node.url,
      owner: deviceOwner.id,
      respond: async () => [
        await snarkjs.groth16.fullProve(
          { h0: other.h0, x: [...other.x] },
          poseidonChain.artifacts.wasm,
          poseidonChain.artifacts.zkey,
        ),
      ],
    });
    await wrongStatement.connect();
    expect((await wrongStatement.workOnce()).verdicts[0]?.code).toBe("PROOF_WRONG_STATEMENT");
    wrongStatement.close();
    await client.cancelJob(job.jobId);
    expect((await client.ledgerVerify()).ok).toBe(true);
  });

  it("ignores a frame signed with another identity's key, signing no reply", async () => {
    const device = new ProtocolDevice({ url: node.url, owner: deviceOwner.id });
    await device.connect();
    const impostor = newIdentity();
    const forged = {
      ...seal(impostor, "device.ready", { slots: 1 }, { nowMs: Date.now() }),
      from: device.identity.id,
    };
    device.socket.send(JSON.stringify(forged));
    // Frames are handled in order: the first error the node signs is for the frame after.
    device.send("device.bogus", {});
    expect(((await device.next("node.error")).body as { code: string }).code).toBe(
      "MESSAGE_UNEXPECTED",
    );
    expect(device.frames.filter((f) => f.kind === "node.leases")).toEqual([]);
    device.close();
  });

  it("ignores a replayed frame and refuses a job above the requester's means, changing nothing", async () => {
    const device = new ProtocolDevice({ url: node.url, owner: deviceOwner.id });
    await device.connect();
    const frame = device.send("device.ready", { slots: 0 });
    device.socket.send(frame);
    // The replay gets no signed reply: the next error is for the frame after it.
    device.send("device.bogus", {});
    const error = await device.next("node.error");
    expect((error.body as { code: string }).code).toBe("MESSAGE_UNEXPECTED");
    device.close();
    const before = await client.balance(requester.id);
    await expect(client.submitJob(hashJob(1, "too-rich", "5000"))).rejects.toMatchObject({
      code: "LEDGER_INSUFFICIENT_FUNDS",
    });
    expect(await client.balance(requester.id)).toEqual(before);
  });
});
