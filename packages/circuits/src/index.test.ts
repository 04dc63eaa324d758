import { readFile } from "node:fs/promises";
import type { Groth16Proof, Groth16VerificationKey, PublicSignals } from "snarkjs";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BN254_SCALAR_FIELD,
  exampleInputs,
  expectedOutput,
  expectedPublicSignals,
  isGroth16VerificationKey,
  loadVerificationKey,
  poseidonChain,
  terminateSnarkjsCurve,
  useSingleThreadedCurve,
} from "./index.ts";

describe("exampleInputs", () => {
  it("is a pure function of the seed", () => {
    expect(exampleInputs("seed", 3)).toEqual(exampleInputs("seed", 3));
    expect(exampleInputs("seed", 3)[1]).toEqual(exampleInputs("seed", 2)[1]);
    expect(exampleInputs("other", 1)).not.toEqual(exampleInputs("seed", 1));
  });

  it("gives one public h0 and `steps` private field elements per input", () => {
    const inputs = exampleInputs("shape", 4);
    expect(inputs).toHaveLength(4);
    for (const { h0, x } of inputs) {
      expect(x).toHaveLength(poseidonChain.steps);
      for (const v of [h0, ...x]) {
        expect(v).toMatch(/^[0-9]+$/);
        expect(BigInt(v) < BN254_SCALAR_FIELD).toBe(true);
      }
    }
  });

  it("rejects a negative or fractional count", () => {
    expect(() => exampleInputs("s", -1)).toThrow(RangeError);
    expect(() => exampleInputs("s", 1.5)).toThrow(RangeError);
  });
});

describe("the committed artifacts", () => {
  it("match the constants the package exports", async () => {
    const manifest: unknown = JSON.parse(await readFile(poseidonChain.artifacts.manifest, "utf8"));
    expect(manifest).toMatchObject({
      circuit: poseidonChain.name,
      protocol: poseidonChain.protocol,
      constraints: poseidonChain.constraints,
      privateInputs: poseidonChain.steps,
      publicInputs: 1,
      outputs: 1,
      ptauPower: poseidonChain.ptauPower,
    });
  });

  it("include a well-formed Groth16 verification key", async () => {
    const vkey = await loadVerificationKey();
    expect(isGroth16VerificationKey(vkey)).toBe(true);
    expect(isGroth16VerificationKey({ ...vkey, IC: vkey.IC.slice(1) })).toBe(false);
    expect(isGroth16VerificationKey({ ...vkey, vk_alpha_1: ["1", "2"] })).toBe(false);
  });
});

describe("Groth16 proof of the Poseidon chain", () => {
  const [input] = exampleInputs("index.test", 1);
  let vkey: Groth16VerificationKey;
  let proof: Groth16Proof;
  let publicSignals: PublicSignals;

  beforeAll(async () => {
    if (input === undefined) throw new Error("no example input");
    // One core, one curve for the whole file: also what the device does in its worker threads.
    await useSingleThreadedCurve();
    vkey = await loadVerificationKey();
    ({ proof, publicSignals } = await snarkjs.groth16.fullProve(
      input,
      poseidonChain.artifacts.wasm,
      poseidonChain.artifacts.zkey,
    ));
  });

  afterAll(async () => {
    // Without this a multi-threaded curve's workers would keep vitest from exiting.
    await terminateSnarkjsCurve();
  });

  it("verifies", async () => {
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true);
  });

  it("carries [out, h0], with out the chain's final hash of the input", async () => {
    if (input === undefined) throw new Error("no example input");
    expect(publicSignals).toEqual(await expectedPublicSignals(input));
    expect(publicSignals[0]).toBe(await expectedOutput(input));
    expect(publicSignals[1]).toBe(input.h0);
  });

  it("does not verify with a tampered public signal", async () => {
    const [out, h0] = publicSignals;
    if (out === undefined || h0 === undefined) throw new Error("expected two public signals");
    const bump = (v: string): string => ((BigInt(v) + 1n) % BN254_SCALAR_FIELD).toString();
    expect(await snarkjs.groth16.verify(vkey, [bump(out), h0], proof)).toBe(false);
    expect(await snarkjs.groth16.verify(vkey, [out, bump(h0)], proof)).toBe(false);
    // Non-canonical encodings (x + r) are rejected, so a signal has one accepted form.
    expect(
      await snarkjs.groth16.verify(
        vkey,
        [out, (BigInt(h0) + BN254_SCALAR_FIELD).toString()],
        proof,
      ),
    ).toBe(false);
  });

  it("does not verify a tampered proof, and resolves false rather than throwing", async () => {
    const [ax, ay, az] = proof.pi_a;
    // Another point on the curve (-A): well-formed, wrong.
    const negY = (
      21888242871839275222246405745257275088696311157297823662689037894645226208583n - BigInt(ay)
    ).toString();
    expect(
      await snarkjs.groth16.verify(vkey, publicSignals, { ...proof, pi_a: [ax, negY, az] }),
    ).toBe(false);
    // A point off the curve.
    expect(
      await snarkjs.groth16.verify(vkey, publicSignals, { ...proof, pi_a: [ax, "5", az] }),
    ).toBe(false);
    // Swapped commitments.
    expect(
      await snarkjs.groth16.verify(vkey, publicSignals, {
        ...proof,
        pi_a: proof.pi_c,
        pi_c: proof.pi_a,
      }),
    ).toBe(false);
  });

  it("throws on structurally malformed input, so a verifier must catch", async () => {
    const malformed: unknown = { ...proof, pi_b: undefined };
    await expect(
      snarkjs.groth16.verify(vkey, publicSignals, malformed as Groth16Proof),
    ).rejects.toThrow();
    await expect(snarkjs.groth16.verify(vkey, ["not a number", "1"], proof)).rejects.toThrow();
    await expect(snarkjs.groth16.verify(vkey, [...publicSignals, "1"], proof)).rejects.toThrow();
  });
});
