import { useSingleThreadedCurve } from "@dpn/circuits";
import type { CircuitSignals, Groth16Proof, PublicSignals } from "snarkjs";
import * as snarkjs from "snarkjs";

export interface Groth16Output {
  readonly proof: Groth16Proof;
  readonly publicSignals: PublicSignals;
}

let curveReady: Promise<void> | undefined;

/**
 * One task uses one core: the thread's snarkjs calls share one single-threaded bn128 curve,
 * built once per thread (@dpn/circuits useSingleThreadedCurve). The alternative, fullProve's
 * `{ singleThread: true }` prover option, rebuilds the curve (~0.2 s) on every proof, and the
 * default multi-threaded curve would start os.cpus() threads of its own inside a worker (and
 * cannot be built in a worker thread at all, see @dpn/circuits). A single-threaded curve owns no
 * threads, so nothing of snarkjs keeps the worker or the process alive.
 */
async function ensureSingleThreadedCurve(): Promise<void> {
  // ffjavascript may have reset the singleton (it does on import); re-seed when it is gone.
  if (curveReady === undefined || globalThis.curve_bn128 == null) {
    curveReady = useSingleThreadedCurve();
  }
  await curveReady;
}

/**
 * Proves one input of a Circom circuit with Groth16 (witness generation + proof). Runs in a
 * worker thread (executors/worker.ts); the paths come from the artifact cache, which checked
 * their content hashes.
 */
export async function proveGroth16(
  input: CircuitSignals,
  wasmPath: string,
  zkeyPath: string,
): Promise<Groth16Output> {
  await ensureSingleThreadedCurve();
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasmPath, zkeyPath);
  return { proof, publicSignals };
}
