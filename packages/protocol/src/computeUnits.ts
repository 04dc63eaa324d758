import { nonNegative, positive, positiveInteger } from "./validate.ts";

/**
 * The compute unit and the cost model of each task type (docs/protocol.md §Compute units).
 *
 * 1 CU is the work one core of the reference device does in one second. The reference workload
 * is iterated SHA-256 of a 32-byte digest (the `hash` task), which one Node 20 core of the
 * reference machine runs at about 550k-700k iterations/s; HASHES_PER_CU rounds that to 500k.
 * Every other task type is priced by a model of the work it does, with constants measured on
 * the same core; benchmarks re-calibrate them, governance may change them.
 */
export type WorkSpec =
  /** A batch of Groth16 proofs of one circuit with `constraints` R1CS constraints. */
  | { readonly type: "zk-groth16"; readonly constraints: number; readonly proofs: number }
  /** Local training: `samples` examples for `epochs` passes through a model of `parameters`. */
  | {
      readonly type: "fl-train";
      readonly parameters: number;
      readonly samples: number;
      readonly epochs: number;
    }
  /** An aggregate query scanning `rows` × `columns` cells. */
  | { readonly type: "sql-analytics"; readonly rows: number; readonly columns: number }
  /** A render tile of `pixels` pixels at `samplesPerPixel`. */
  | { readonly type: "render"; readonly pixels: number; readonly samplesPerPixel: number }
  /** `iterations` rounds of SHA-256 over the previous digest. */
  | { readonly type: "hash"; readonly iterations: number };

export interface CostModelParams {
  readonly hashesPerCu: number;
  /** Groth16: witness generation and set-up per proof, in CU. */
  readonly groth16BaseCu: number;
  /** Groth16: CU per constraint·log2(constraints); the prover is dominated by MSMs and FFTs. */
  readonly groth16CuPerConstraintLog: number;
  /** Training: FLOPs one CU delivers in the wasm backend (forward + backward ≈ 6 FLOPs/param). */
  readonly flopsPerCu: number;
  readonly analyticsCellsPerCu: number;
  readonly renderSamplesPerCu: number;
}

export const DEFAULT_COST_MODEL: CostModelParams = {
  hashesPerCu: 500_000,
  groth16BaseCu: 0.1,
  groth16CuPerConstraintLog: 2e-5,
  flopsPerCu: 2.5e9,
  analyticsCellsPerCu: 1e8,
  renderSamplesPerCu: 2e6,
};

/** Floating-point operations per parameter per training example (forward + backward pass). */
const TRAINING_FLOPS_PER_PARAMETER = 6;

/** The price of a unit of work in CU (docs/protocol.md §Compute units). Always finite, >= 0. */
export function costCu(work: WorkSpec, params: CostModelParams = DEFAULT_COST_MODEL): number {
  switch (work.type) {
    case "zk-groth16": {
      const n = positiveInteger("constraints", work.constraints);
      const proofs = positiveInteger("proofs", work.proofs);
      const perProof =
        params.groth16BaseCu + params.groth16CuPerConstraintLog * n * Math.log2(Math.max(n, 2));
      return proofs * perProof;
    }
    case "fl-train":
      return (
        (TRAINING_FLOPS_PER_PARAMETER *
          positiveInteger("parameters", work.parameters) *
          nonNegative("samples", work.samples) *
          positiveInteger("epochs", work.epochs)) /
        positive("flopsPerCu", params.flopsPerCu)
      );
    case "sql-analytics":
      return (
        (nonNegative("rows", work.rows) * positiveInteger("columns", work.columns)) /
        positive("analyticsCellsPerCu", params.analyticsCellsPerCu)
      );
    case "render":
      return (
        (nonNegative("pixels", work.pixels) *
          positiveInteger("samplesPerPixel", work.samplesPerPixel)) /
        positive("renderSamplesPerCu", params.renderSamplesPerCu)
      );
    case "hash":
      return (
        nonNegative("iterations", work.iterations) / positive("hashesPerCu", params.hashesPerCu)
      );
  }
}
