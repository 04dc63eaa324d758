import { readFileSync } from "node:fs";
import { useSingleThreadedCurve } from "@dpn/circuits";
import * as snarkjs from "snarkjs";

/**
 * Whether a job's proving key (zkey) and its verification key belong together, a verify-pool
 * work module: the verification key is exported from the zkey (snarkjs) and compared with the
 * submitted one. A mismatched pair would make every honest proof fail verification, so devices
 * would be refused and lose reputation for the requester's mistake; it is refused at submission.
 */
export interface KeyMatchRequest {
  readonly zkeyPath: string;
  readonly verificationKeyPath: string;
}

export interface KeyMatch {
  readonly matches: boolean;
  /** The first field that differs, or why the keys could not be read. */
  readonly reason?: string;
}

/** The fields that define a Groth16 verification key (vk_alphabeta_12 is derived from them). */
const FIELDS = [
  "protocol",
  "curve",
  "nPublic",
  "vk_alpha_1",
  "vk_beta_2",
  "vk_gamma_2",
  "vk_delta_2",
  "IC",
];

let curveReady: Promise<void> | undefined;

export async function work(request: KeyMatchRequest): Promise<KeyMatch> {
  curveReady ??= useSingleThreadedCurve();
  await curveReady;
  let fromZkey: Record<string, unknown>;
  let submitted: Record<string, unknown>;
  try {
    fromZkey = (await snarkjs.zKey.exportVerificationKey(request.zkeyPath)) as Record<
      string,
      unknown
    >;
  } catch {
    // snarkjs's message names the node's file path: the requester is told what, not where.
    return { matches: false, reason: "the zkey is not a Groth16 proving key snarkjs can read" };
  }
  try {
    submitted = JSON.parse(readFileSync(request.verificationKeyPath, "utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    return { matches: false, reason: "the verification key is not JSON" };
  }
  for (const field of FIELDS) {
    if (JSON.stringify(fromZkey[field]) !== JSON.stringify(submitted[field])) {
      return { matches: false, reason: `${field} differs` };
    }
  }
  return { matches: true };
}

export const KEY_MATCH_WORK = new URL(import.meta.url);
