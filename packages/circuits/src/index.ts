// The example circuit DPN ships for `zk-groth16` jobs: a Poseidon hash chain standing in for a
// rollup batch (circuits/poseidonChain.circom), with artifacts built by scripts/build.ts.

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Groth16VerificationKey } from "snarkjs";
import * as snarkjs from "snarkjs";

/** Order r of the BN254 (bn128) scalar field: every circuit signal is an element of Z_r. */
export const BN254_SCALAR_FIELD =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** One proof's inputs: the public previous state `h0` and the batch's private items `x[i]`. */
export type PoseidonChainInput = {
  readonly h0: string;
  readonly x: readonly string[];
};

const artifact = (name: string): string =>
  fileURLToPath(new URL(`../artifacts/${name}`, import.meta.url));

/**
 * The example circuit: proves knowledge of `x[0..steps-1]` such that h[i+1] = Poseidon(h[i], x[i])
 * from the public `h0` ends at the public output. Public signals in snarkjs order: [out, h0].
 */
export const poseidonChain = {
  name: "poseidonChain",
  protocol: "groth16",
  curve: "bn128",
  /** Chain length: one Poseidon(2) per step, 240 constraints each. */
  steps: 16,
  /** R1CS constraints after circom's --O2 simplification (snarkjs r1cs info). */
  constraints: 3840,
  /** Powers of tau used by the setup: 2^12 rows ≥ constraints + public signals + 1. */
  ptauPower: 12,
  /** Names of the public signals, in the order snarkjs returns them. */
  publicSignalNames: ["out", "h0"],
  /** Absolute paths of the committed artifacts. */
  artifacts: {
    wasm: artifact("poseidonChain.wasm"),
    zkey: artifact("poseidonChain_final.zkey"),
    verificationKey: artifact("verification_key.json"),
    manifest: artifact("manifest.json"),
  },
} as const;

const isDecimal = (v: unknown): v is string => typeof v === "string" && /^[0-9]{1,78}$/.test(v);
const isTuple = (v: unknown, length: number, item: (e: unknown) => boolean): boolean =>
  Array.isArray(v) && v.length === length && v.every(item);
const isG1 = (v: unknown): boolean => isTuple(v, 3, isDecimal);
const isG2 = (v: unknown): boolean => isTuple(v, 3, (c) => isTuple(c, 2, isDecimal));

/**
 * True when `value` has the shape of a snarkjs Groth16 verification key (decimal strings in the
 * right nesting, one IC point per public signal plus one). The points themselves are checked
 * by snarkjs when verifying.
 */
export function isGroth16VerificationKey(value: unknown): value is Groth16VerificationKey {
  if (typeof value !== "object" || value === null) return false;
  const v: { readonly [key: string]: unknown } = { ...value };
  return (
    v.protocol === "groth16" &&
    typeof v.curve === "string" &&
    typeof v.nPublic === "number" &&
    Number.isSafeInteger(v.nPublic) &&
    v.nPublic >= 0 &&
    isG1(v.vk_alpha_1) &&
    isG2(v.vk_beta_2) &&
    isG2(v.vk_gamma_2) &&
    isG2(v.vk_delta_2) &&
    Array.isArray(v.vk_alphabeta_12) &&
    isTuple(v.IC, v.nPublic + 1, isG1)
  );
}

/** Reads the Groth16 verification key of the example circuit. */
export async function loadVerificationKey(): Promise<Groth16VerificationKey> {
  const vkey: unknown = JSON.parse(await readFile(poseidonChain.artifacts.verificationKey, "utf8"));
  if (!isGroth16VerificationKey(vkey) || vkey.nPublic !== poseidonChain.publicSignalNames.length) {
    throw new Error(`${poseidonChain.artifacts.verificationKey} is not the example's Groth16 key`);
  }
  return vkey;
}

/** A field element from sha256 of an unambiguous label (mod r: the bias of 2^256 mod r is harmless here). */
function fieldElement(label: readonly (string | number)[]): string {
  const digest = sha256(utf8ToBytes(JSON.stringify(label)));
  return (BigInt(`0x${bytesToHex(digest)}`) % BN254_SCALAR_FIELD).toString();
}

/**
 * `count` valid inputs, a pure function of `seed`: input i has h0 = H(seed, i, "h0") and
 * x[j] = H(seed, i, "x", j) with H = sha256 reduced mod r.
 */
export function exampleInputs(seed: string, count: number): PoseidonChainInput[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  }
  return Array.from({ length: count }, (_, index) => ({
    h0: fieldElement([seed, index, "h0"]),
    x: Array.from({ length: poseidonChain.steps }, (_, j) => fieldElement([seed, index, "x", j])),
  }));
}

let wasmBytes: Promise<Uint8Array> | undefined;

/**
 * The public signals a correct proof of `input` must carry, [out, h0], computed by running the
 * circuit's own witness generator (no second Poseidon implementation to keep in sync; ~20–40 ms,
 * mostly compiling the wasm, which is read once and kept in memory).
 * A verifier should compare these with the proof's signals: a valid proof for other private
 * inputs under the same h0 verifies too, but ends at a different `out`.
 */
export async function expectedPublicSignals(input: PoseidonChainInput): Promise<[string, string]> {
  wasmBytes ??= readFile(poseidonChain.artifacts.wasm).then((b) => new Uint8Array(b));
  const wtns = { type: "mem" as const };
  await snarkjs.wtns.calculate(input, await wasmBytes, wtns);
  // Witness layout: [1, outputs…, public inputs…, private inputs…, internal signals…].
  const [, out, h0] = await snarkjs.wtns.exportJson(wtns);
  if (out === undefined || h0 === undefined)
    throw new Error("witness is shorter than its public signals");
  return [out.toString(), h0.toString()];
}

/** The chain's final hash h[steps] for `input`, as a decimal string. */
export async function expectedOutput(input: PoseidonChainInput): Promise<string> {
  const [out] = await expectedPublicSignals(input);
  return out;
}

/**
 * Makes every later snarkjs call in this thread use one single-threaded bn128 curve, built once.
 *
 * Why: snarkjs's `{ singleThread: true }` prover option rebuilds the curve (~0.2 s) on every
 * proof and is not honoured by `groth16.verify` at all; and the default multi-threaded curve
 * cannot be built inside a worker_threads worker (ffjavascript's `web-worker` dependency takes
 * any non-main thread for one of its own workers, so `new Worker` is undefined there). Seeding
 * ffjavascript's singleton `globalThis.curve_bn128` avoids both. Call it after snarkjs has been
 * imported (importing it resets the singleton) and before the first proof or verification.
 * Relies on ffjavascript 0.3.1 internals, pinned through snarkjs 0.7.6.
 */
export async function useSingleThreadedCurve(): Promise<void> {
  globalThis.curve_bn128 = await snarkjs.curves.getCurveFromName("bn128", { singleThread: true });
}

/**
 * Releases snarkjs's shared bn128 curve. The multi-threaded one keeps worker threads alive and
 * so the process; call this once when done proving/verifying (tests' afterAll, shutdown). The
 * next snarkjs call rebuilds a curve. Takes ~200 ms with threads (a fixed sleep in ffjavascript).
 */
export async function terminateSnarkjsCurve(): Promise<void> {
  await globalThis.curve_bn128?.terminate();
  globalThis.curve_bn128 = null;
}

export { readZkeyShape, ZkeyFormatError, type ZkeyShape } from "./zkeyShape.ts";
