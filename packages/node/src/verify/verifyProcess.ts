import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isGroth16VerificationKey, useSingleThreadedCurve } from "@dpn/circuits";
import type { Groth16Proof, Groth16VerificationKey } from "snarkjs";
import * as snarkjs from "snarkjs";
import { serve } from "./processPool.ts";

/**
 * Verification work that must not run on the node's event loop: Groth16 pairing checks (~10 ms
 * each) and recomputation of hash tasks. Runs in child processes (processPool.ts), one request
 * at a time per process, on snarkjs's single-threaded curve so each process uses one core.
 */
export type VerifyRequest =
  | {
      readonly kind: "groth16";
      readonly verificationKeyPath: string;
      readonly proofs: ReadonlyArray<{
        readonly proof: Groth16Proof;
        readonly publicSignals: readonly string[];
      }>;
    }
  | {
      readonly kind: "hash";
      readonly items: ReadonlyArray<{ readonly seed: string; readonly iterations: number }>;
    };

/** One entry per proof or item: the Groth16 verdict, or the recomputed digest. */
export type VerifyResponse =
  | { readonly kind: "groth16"; readonly valid: boolean[] }
  | { readonly kind: "hash"; readonly digests: string[] };

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

export function iteratedSha256(seedHex: string, iterations: number): string {
  let digest: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

export async function verify(request: VerifyRequest): Promise<VerifyResponse> {
  if (request.kind === "hash") {
    return {
      kind: "hash",
      digests: request.items.map((item) => iteratedSha256(item.seed, item.iterations)),
    };
  }
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
  return { kind: "groth16", valid };
}

serve(verify);
