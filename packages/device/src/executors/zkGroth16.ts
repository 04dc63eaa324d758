import { useSingleThreadedCurve } from "@dpn/circuits";
import { DpnError } from "@dpn/protocol";
import type { CircuitSignals, Groth16Proof, PublicSignals } from "snarkjs";
import * as snarkjs from "snarkjs";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import type { Executor } from "./kind.ts";

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

/**
 * `zk-groth16`: the circuit's wasm and zkey by content hash from the artifact cache (the
 * verification key is not fetched: proving does not need it, the node verifies), then one proof
 * per item on the worker pool.
 */
export const zkGroth16Executor: Executor<"zk-groth16"> = {
  type: "zk-groth16",
  async run(lease, { pool, cache, handles }, signal) {
    const { wasm, zkey } = lease.artifacts;
    if (wasm === undefined || zkey === undefined) {
      throw new DpnError(DEVICE_TASK_INVALID, "A zk-groth16 lease lacks its wasm or zkey.", {
        hint: "This is a node bug; the lease is dropped and will expire.",
        details: { artifacts: Object.keys(lease.artifacts) },
      });
    }
    const [wasmFile, zkeyFile] = await Promise.all([cache.acquire(wasm), cache.acquire(zkey)]);
    handles.push(wasmFile, zkeyFile);
    signal.throwIfAborted();
    const outputs: unknown[] = [];
    for (const input of lease.items) {
      const task = {
        type: "zk-groth16" as const,
        input,
        wasmPath: wasmFile.path,
        zkeyPath: zkeyFile.path,
      };
      outputs.push((await pool.run(task, signal)).output);
    }
    return outputs;
  },
};
