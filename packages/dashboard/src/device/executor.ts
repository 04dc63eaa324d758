import { memoryProbe } from "@dpn/wire";
import { ArtifactCache, type Fetch } from "./artifacts.ts";
import { iterateSha256 } from "./hashTask.ts";

/**
 * What a contributing tab computes, behind one interface: in the page it runs in a Web Worker
 * (workerExecutor.ts → deviceWorker.ts), in Node tests in-process. Both run the same code here.
 */

/** Inputs of one Groth16 proof: circuit signal name → decimal value or array of them. */
export type CircuitInput = Readonly<Record<string, string | readonly string[]>>;

/** What the node expects for one zk-groth16 item (@dpn/wire ProofOutput). */
export interface ProofOutput {
  readonly proof: {
    readonly pi_a: readonly string[];
    readonly pi_b: readonly (readonly string[])[];
    readonly pi_c: readonly string[];
    readonly protocol: "groth16";
    readonly curve: string;
  };
  readonly publicSignals: readonly string[];
}

export interface Executor {
  /** SHA-256 iterated `iterations` times from `seed` (hex), resting to hold `cpuShare`. */
  hash(seed: string, iterations: number, cpuShare: number): Promise<string>;
  /** The capability challenge's memory probe: scrypt of `seed` in `memoryMiB` (@dpn/wire). */
  memoryProbe(seed: string, memoryMiB: number): Promise<string>;
  /**
   * Downloads and checks artifacts ahead of proving, so proof times exclude downloads; each with
   * its signed read (`authorization` header by SHA-256), made by the agent that holds the keys.
   */
  prepare(
    artifacts: readonly string[],
    authorizations?: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** One Groth16 proof (witness + proof) with the artifacts named by their SHA-256. */
  prove(input: CircuitInput, wasm: string, zkey: string): Promise<ProofOutput>;
  /** Stops all work; pending calls reject. */
  close(): void;
}

type Snarkjs = typeof import("snarkjs");
let snarkjsReady: Promise<Snarkjs> | undefined;

/**
 * snarkjs, loaded on the first proof (a separate ~1 MB chunk the hash-only path never loads),
 * with one single-threaded bn128 curve shared by every later proof: the proof runs on this
 * worker's one core, as the CPU share assumes, and the curve is built once (~0.2 s), not per
 * proof as fullProve's `singleThread` option would. ffjavascript uses `globalThis.curve_bn128`
 * whenever it is set.
 */
function loadSnarkjs(): Promise<Snarkjs> {
  snarkjsReady ??= import("snarkjs").then(async (snarkjs) => {
    globalThis.curve_bn128 = await snarkjs.curves.getCurveFromName("bn128", { singleThread: true });
    return snarkjs;
  });
  return snarkjsReady;
}

/** The executor that computes in the calling thread: the worker's, or a Node test's. */
export function localExecutor(nodeUrl: string, fetchFn?: Fetch): Executor {
  const artifacts = new ArtifactCache(nodeUrl, fetchFn);
  return {
    hash: (seed, iterations, cpuShare) => iterateSha256(seed, iterations, { cpuShare }),
    memoryProbe: async (seed, memoryMiB) => memoryProbe(seed, memoryMiB),
    async prepare(names, authorizations = {}) {
      await Promise.all([
        loadSnarkjs(),
        ...names.map((name) => artifacts.get(name, authorizations[name])),
      ]);
    },
    async prove(input, wasm, zkey) {
      const [snarkjs, wasmBytes, zkeyBytes] = await Promise.all([
        loadSnarkjs(),
        artifacts.get(wasm),
        artifacts.get(zkey),
      ]);
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasmBytes, zkeyBytes);
      return {
        proof: {
          pi_a: proof.pi_a,
          pi_b: proof.pi_b,
          pi_c: proof.pi_c,
          protocol: proof.protocol,
          curve: proof.curve,
        },
        publicSignals,
      };
    },
    close() {},
  };
}
