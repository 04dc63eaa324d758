import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { poseidonChain, terminateSnarkjsCurve } from "@dpn/circuits";
import { type DeviceHandle, startDevice } from "@dpn/device";
import { costCu } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, ProofOutput } from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { type BuiltCircuit, buildCircuit } from "./circuit/build.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

/**
 * `zk-groth16` with a circuit the project does not ship (test/circuit/factor.circom: a * b = c
 * with range-checked factors, c public), compiled and set up in this process: the node must
 * price it from its own zkey, refuse a wrong declared size and items one proof could satisfy,
 * and pay real devices for real proofs of it.
 */
const dir = mkdtempSync(join(tmpdir(), "dpn-zk-circuit-"));
const requester = newIdentity();
const owner = newIdentity();
let node: RunningNode;
let client: DpnClient;
let circuit: BuiltCircuit;
let artifacts: { wasm: string; zkey: string; verificationKey: string };
const devices: DeviceHandle[] = [];

/** 2^6 = 64 rows ≥ the circuit's constraints + public signals + 1. */
const PTAU_POWER = 6;

const factor = (a: number, b: number) => ({ a: `${a}`, b: `${b}`, c: `${a * b}` });

function job(spec: Record<string, unknown>, clientRef: string) {
  return {
    spec: { type: "zk-groth16" as const, artifacts, publicInputs: ["c"], ...spec },
    budget: "50",
    deadlineMs: Date.now() + 600_000,
    clientRef,
  } as Parameters<DpnClient["submitJob"]>[0];
}

/**
 * Resolves once the node counts the device as online. node.registered is sent before the device
 * joins the scheduler, but a socket's frames are handled in order: the answer to a later frame
 * (an unexpected one, refused with node.error) comes after the join.
 */
async function online(device: ProtocolDevice): Promise<void> {
  device.send("device.bogus", {});
  await device.next("node.error");
}

beforeAll(async () => {
  circuit = await buildCircuit("factor", PTAU_POWER);
  const { compile, ptau, zkey } = circuit.timings;
  console.info(
    `factor circuit: ${circuit.r1cs.nConstraints} constraints; compile ${(compile / 1000).toFixed(1)} s, ` +
      `powers of tau 2^${PTAU_POWER} ${(ptau / 1000).toFixed(1)} s, Groth16 setup ${(zkey / 1000).toFixed(1)} s`,
  );
  node = await startNode({
    store: testStore(),
    dataDir: join(dir, "node"),
    logLevel: process.env.DPN_TEST_LOG ?? "silent",
    grants: { [requester.id]: "1000" },
    challengeIterations: 10_000,
    params: { "burning.coldStorageShare": 0 },
  });
  client = new DpnClient({ url: node.url, identity: requester });
  artifacts = {
    wasm: await client.uploadArtifact(circuit.wasm),
    zkey: await client.uploadArtifact(circuit.zkey),
    verificationKey: await client.uploadArtifact(
      new TextEncoder().encode(JSON.stringify(circuit.verificationKey)),
    ),
  };
}, 240_000);

afterAll(async () => {
  await Promise.all(devices.map((d) => d.stop()));
  await node?.close();
  await terminateSnarkjsCurve();
});

describe("zk-groth16 with a circuit compiled in the test", () => {
  it("prices the job from its zkey's constraint count and refuses a wrong declared one", async () => {
    const { nConstraints } = circuit.r1cs;
    expect(nConstraints).not.toBe(poseidonChain.constraints);
    const before = await client.balance(requester.id);
    const declared = poseidonChain.constraints;
    await expect(
      client.submitJob(job({ constraints: declared, items: [factor(3, 5)] }, "wrong-count")),
    ).rejects.toMatchObject({
      code: "ZK_CONSTRAINTS_MISMATCH",
      details: { declared, constraints: nConstraints },
    });
    // A file that is no zkey (here the witness generator) has no count to price from.
    await expect(
      client.submitJob({
        ...job({ items: [factor(3, 5)] }, "not-a-zkey"),
        spec: {
          type: "zk-groth16",
          artifacts: { ...artifacts, zkey: artifacts.wasm },
          publicInputs: ["c"],
          items: [factor(3, 5)],
        },
      }),
    ).rejects.toMatchObject({ code: "ZK_ZKEY_INVALID" });
    expect(await client.balance(requester.id)).toEqual(before);

    const items = [factor(3, 5), factor(3, 7), factor(5, 7)];
    const perProof = costCu({ type: "zk-groth16", constraints: nConstraints, proofs: 1 });
    const undeclared = await client.submitJob(job({ items }, "undeclared"));
    const declaredRight = await client.submitJob(
      job({ constraints: nConstraints, items }, "declared"),
    );
    for (const view of [undeclared, declaredRight]) {
      expect(view.cu).toBeCloseTo(items.length * perProof, 9);
      await client.cancelJob(view.jobId);
    }
  });

  it("refuses items one proof could satisfy, and public signals no proof of it carries", async () => {
    const before = await client.balance(requester.id);
    // Nothing names what tells the items apart: one proof of anything would do for both.
    await expect(
      client.submitJob(
        job({ publicInputs: [], items: [factor(3, 5), factor(3, 7)] }, "unbound-none"),
      ),
    ).rejects.toMatchObject({ code: "ZK_STATEMENT_UNBOUND", details: { items: [0, 1] } });
    // Two factorings of 15: one proof of "15 has factors" passes for both.
    const sameC = [factor(3, 7), factor(3, 5), factor(5, 3)];
    await expect(client.submitJob(job({ items: sameC }, "unbound-same"))).rejects.toMatchObject({
      code: "ZK_STATEMENT_UNBOUND",
      details: { items: [1, 2] },
      hint: expect.stringContaining("allowUnboundItems: true"),
    });
    // The circuit has one public signal (c): three public input values, or two expected
    // signals, are no proof's.
    await expect(
      client.submitJob(
        job({ publicInputs: ["a", "b", "c"], items: [factor(3, 5)] }, "too-many-inputs"),
      ),
    ).rejects.toMatchObject({ code: "ZK_PUBLIC_SIGNALS_MISMATCH" });
    await expect(
      client.submitJob(
        job({ items: [factor(3, 5)], expectedPublicSignals: [["15", "15"]] }, "long-expected"),
      ),
    ).rejects.toMatchObject({ code: "ZK_PUBLIC_SIGNALS_MISMATCH" });
    await expect(
      client.submitJob(
        job({ items: [factor(3, 5)], expectedPublicSignals: [["16"]] }, "contradiction"),
      ),
    ).rejects.toMatchObject({ code: "ZK_PUBLIC_SIGNALS_MISMATCH" });
    expect(await client.balance(requester.id)).toEqual(before);
  });

  it("with allowUnboundItems, refuses one proof returned for two items", async () => {
    // The only device online: the job is one fragment holding both items.
    const items = [factor(3, 5), factor(5, 3)];
    const replayer = new ProtocolDevice({
      url: node.url,
      owner: owner.id,
      respond: async () => {
        const one = await snarkjs.groth16.fullProve(items[0] ?? {}, circuit.wasm, circuit.zkey);
        return [one, one];
      },
    });
    await replayer.connect();
    const submitted = await client.submitJob(
      job({ items, allowUnboundItems: true }, "allowed-replayed"),
    );
    const { verdicts } = await replayer.workOnce();
    expect(verdicts[0]).toMatchObject({ accepted: false, code: "PROOF_DUPLICATE" });
    replayer.close();
    await client.cancelJob(submitted.jobId);

    // Three devices online: two fragments of one item each. The first device's accepted proof,
    // returned by the second for the other fragment, is refused.
    const one = await snarkjs.groth16.fullProve(items[0] ?? {}, circuit.wasm, circuit.zkey);
    const fleet = Array.from(
      { length: 3 },
      () =>
        new ProtocolDevice({
          url: node.url,
          owner: owner.id,
          slots: 1,
          respond: async () => [one],
        }),
    );
    for (const device of fleet) {
      await device.connect();
      await online(device);
    }
    const split = await client.submitJob(job({ items, allowUnboundItems: true }, "allowed-split"));
    expect(split.fragments).toHaveLength(2);
    const [first, second] = fleet;
    expect((await first?.workOnce())?.verdicts[0]).toMatchObject({ accepted: true });
    expect((await second?.workOnce())?.verdicts[0]).toMatchObject({
      accepted: false,
      code: "PROOF_DUPLICATE",
    });
    for (const device of fleet) device.close();
    await client.cancelJob(split.jobId);
  });

  it("runs the circuit's jobs on real devices, which are paid for proofs that verify", async () => {
    const registered: Promise<unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      const device = startDevice({
        nodeUrl: node.url,
        identity: newIdentity(),
        owner: owner.id,
        deviceClass: "server",
        geohash: ["u33d", "9q8y"][i] as string,
        cacheDir: join(dir, `cache-${i}`),
        slots: 1,
        taskTypes: ["zk-groth16"],
      });
      registered.push(
        new Promise((resolve) => {
          const off = device.onEvent((event) => {
            if (event.type === "registered") {
              off();
              resolve(event);
            }
          });
        }),
      );
      devices.push(device);
    }
    await Promise.all(registered);
    const bound = [factor(3, 5), factor(3, 7), factor(5, 7), factor(7, 11)];
    const unbound = [factor(3, 5), factor(5, 3)];
    const jobs = [
      await client.submitJob(job({ items: bound }, "run-bound")),
      await client.submitJob(job({ items: unbound, allowUnboundItems: true }, "run-unbound")),
    ];
    const perProof = costCu({
      type: "zk-groth16",
      constraints: circuit.r1cs.nConstraints,
      proofs: 1,
    });
    for (const [index, submitted] of jobs.entries()) {
      const items = index === 0 ? bound : unbound;
      const done = await client.waitForJob(submitted.jobId);
      expect(done.state).toBe("done");
      expect(done.cu).toBeCloseTo(items.length * perProof, 9);
      const { outputs } = await client.jobResult(submitted.jobId);
      expect(outputs).toHaveLength(items.length);
      for (const [i, raw] of outputs.entries()) {
        const output = ProofOutput.parse(raw);
        expect(output.publicSignals).toEqual([items[i]?.c]);
        const proof = output.proof as Groth16Proof; // ProofOutput checked the tuple lengths
        expect(
          await snarkjs.groth16.verify(circuit.verificationKey, output.publicSignals, proof),
        ).toBe(true);
      }
    }
    expect(Number((await client.balance(owner.id)).balance)).toBeGreaterThan(0);
    expect((await client.ledgerVerify()).ok).toBe(true);
  });
});
