import { fileURLToPath } from "node:url";
import {
  exampleInputs,
  loadVerificationKey,
  poseidonChain,
  terminateSnarkjsCurve,
  useSingleThreadedCurve,
} from "@dpn/circuits";
import * as snarkjs from "snarkjs";

/**
 * Row 1 of bench/prove.ts, run in its own process (pinned to one core by the parent with
 * taskset): snarkjs alone, single-threaded curve, `groth16.fullProve` in a plain loop, then
 * `groth16.verify` of each proof produced (the node's verification path: verifyProcess.ts uses
 * the same call on the same single-threaded curve). Prints one JSON line.
 */
export interface AloneResult {
  readonly proveMs: number[];
  readonly verifyMs: number[];
}

export async function proveAlone(proofs: number, seed: string): Promise<AloneResult> {
  await useSingleThreadedCurve();
  const key = await loadVerificationKey();
  const inputs = exampleInputs(seed, proofs + 1);
  const { wasm, zkey } = poseidonChain.artifacts;
  // One warm-up proof: the wasm witness calculator and the zkey are loaded on first use.
  const warm = inputs[0];
  if (warm !== undefined)
    await snarkjs.groth16.fullProve({ h0: warm.h0, x: [...warm.x] }, wasm, zkey);
  const proveMs: number[] = [];
  const verifyMs: number[] = [];
  const produced: Array<{ proof: snarkjs.Groth16Proof; publicSignals: string[] }> = [];
  for (const input of inputs.slice(1)) {
    const t = performance.now();
    produced.push(await snarkjs.groth16.fullProve({ h0: input.h0, x: [...input.x] }, wasm, zkey));
    proveMs.push(performance.now() - t);
  }
  for (const { proof, publicSignals } of produced) {
    const t = performance.now();
    const ok = await snarkjs.groth16.verify(key, publicSignals, proof);
    verifyMs.push(performance.now() - t);
    if (!ok) throw new Error("a proof produced by snarkjs did not verify");
  }
  await terminateSnarkjsCurve();
  return { proveMs, verifyMs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await proveAlone(Number(process.argv[2] ?? 4), process.argv[3] ?? "bench");
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
