import { readFileSync } from "node:fs";
import { isGroth16VerificationKey, useSingleThreadedCurve } from "@dpn/circuits";
import type { Groth16Proof, Groth16VerificationKey } from "snarkjs";
import * as snarkjs from "snarkjs";

/**
 * Groth16 pairing checks (~10 ms each), a verify-pool work module: it runs in a child process,
 * on snarkjs's single-threaded curve so each process uses one core.
 */
export interface PairingRequest {
  readonly verificationKeyPath: string;
  readonly proofs: ReadonlyArray<{
    readonly proof: Groth16Proof;
    readonly publicSignals: readonly string[];
  }>;
}

let curveReady: Promise<void> | undefined;
const keys = new Map<string, Groth16VerificationKey>();

function verificationKey(path: string): Groth16VerificationKey {
  let key = keys.get(path);
  if (key === undefined) {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (!isGroth16VerificationKey(parsed))
      throw new Error(`${path} is not a Groth16 verification key`);
    key = parsed;
    keys.set(path, key);
  }
  return key;
}

/** One verdict per proof. */
export async function work(request: PairingRequest): Promise<boolean[]> {
  curveReady ??= useSingleThreadedCurve();
  await curveReady;
  const key = verificationKey(request.verificationKeyPath);
  const valid: boolean[] = [];
  for (const { proof, publicSignals } of request.proofs) {
    // snarkjs counts missing public signals as zero: a proof must carry exactly nPublic of them.
    if (publicSignals.length !== key.nPublic) {
      valid.push(false);
      continue;
    }
    try {
      valid.push(await snarkjs.groth16.verify(key, [...publicSignals], proof));
    } catch {
      // snarkjs throws on points that are not on the curve: that is an invalid proof.
      valid.push(false);
    }
  }
  return valid;
}

export const PAIRING_WORK = new URL(import.meta.url);
