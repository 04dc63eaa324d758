import { z } from "zod";
import { Decimal, MAX_JOB_ITEMS, Sha256Hex } from "../schemas.ts";
import { taskWire } from "./kind.ts";

/**
 * `zk-groth16`: Groth16 proofs of one circuit (snarkjs), verified against the job's
 * verification key before anything is paid.
 */

/** Inputs of one Groth16 proof: circuit signal name → decimal value or array of them. */
export const CircuitInput = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
  z.union([Decimal, z.array(Decimal).max(4096)]),
);
export type CircuitInput = z.infer<typeof CircuitInput>;

export const Groth16Proof = z.strictObject({
  pi_a: z.array(Decimal).length(3),
  pi_b: z.array(z.array(Decimal).length(2)).length(3),
  pi_c: z.array(Decimal).length(3),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});
export const ProofOutput = z.strictObject({
  proof: Groth16Proof,
  publicSignals: z.array(Decimal).max(256),
});
export type ProofOutput = z.infer<typeof ProofOutput>;

export const ZkJobSpec = z.strictObject({
  type: z.literal("zk-groth16"),
  /** Content hashes of the uploaded circuit artifacts. */
  artifacts: z.strictObject({ wasm: Sha256Hex, zkey: Sha256Hex, verificationKey: Sha256Hex }),
  /**
   * Optional: the circuit's R1CS constraint count as the requester knows it. The node prices the
   * job from the count it reads in the zkey and refuses a declared one that differs
   * (ZK_CONSTRAINTS_MISMATCH), so a price is never made from a number only the requester vouches for.
   */
  constraints: z.optional(
    z
      .number()
      .int()
      .min(1)
      .max(1 << 28),
  ),
  /**
   * Names of the circuit's public inputs, in order. The node checks that each proof's public
   * signals end with exactly these inputs' values, so a device cannot prove another statement.
   */
  publicInputs: z.array(z.string().min(1).max(64)).max(64),
  items: z.array(CircuitInput).min(1).max(MAX_JOB_ITEMS),
  /**
   * Optional: the full public signals each proof must carry (outputs, then public inputs), when
   * the requester knows them (a rollup knows the state root it expects). Without them a valid
   * proof of other private inputs under the same public inputs would be accepted.
   */
  expectedPublicSignals: z.optional(z.array(z.array(Decimal).max(256)).max(MAX_JOB_ITEMS)),
  /**
   * Optional, default false: accept a job of several items whose checked statements (expected
   * public signals, else the named public inputs' values) coincide for two items or more. One
   * proof satisfies every such item, and a re-randomised copy of it does too, so the node refuses
   * the job (ZK_STATEMENT_UNBOUND) unless the requester says it wants such proofs anyway.
   */
  allowUnboundItems: z.optional(z.boolean()),
});

export const zkGroth16 = taskWire({
  type: "zk-groth16",
  spec: ZkJobSpec,
  item: CircuitInput,
  output: ProofOutput,
  capability: undefined,
});
