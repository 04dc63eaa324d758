import type { ZkeyShape } from "@dpn/circuits";
import { DpnError } from "@dpn/protocol";
import type { KindContext } from "../kind.ts";
import { KEY_MATCH_WORK, type KeyMatch, type KeyMatchRequest } from "./keyMatch.ts";
import { ZKEY_SHAPE_WORK, type ZkeyShapeRequest, type ZkeyShapeResult } from "./zkeyShape.ts";

/**
 * Circuits found usable, by (zkey, verification key) pair, with the shape read from the zkey:
 * both checks read the zkey (a fraction of a second for the example circuit), and jobs of one
 * circuit reuse one pair. Artifacts are content-addressed, so a remembered shape never goes
 * stale. Bounded: a forgotten pair is only checked again.
 */
const CIRCUITS_KEPT = 1_000;
const circuits = new Map<string, ZkeyShape>();

/**
 * The circuit a zk-groth16 job names, checked before anything is held: its zkey must be a snarkjs
 * Groth16 key whose size can be read (ZK_ZKEY_INVALID), and its verification key the one the zkey
 * exports (ZK_VKEY_MISMATCH). Both run in the verify pool. Returns the zkey's shape, which
 * prices the job.
 */
export async function checkCircuit(
  context: KindContext,
  artifacts: { readonly zkey: string; readonly verificationKey: string },
): Promise<ZkeyShape> {
  const { zkey, verificationKey } = artifacts;
  const pair = `${zkey}:${verificationKey}`;
  const known = circuits.get(pair);
  if (known !== undefined) return known;
  const zkeyPath = context.artifacts.path(zkey);
  const read = await context.verifyPool.run<ZkeyShapeResult>(ZKEY_SHAPE_WORK, {
    zkeyPath,
  } satisfies ZkeyShapeRequest);
  if (!read.ok) {
    throw new DpnError("ZK_ZKEY_INVALID", `The zkey cannot be used: ${read.reason}.`, {
      hint: "Upload the proving key snarkjs made for this circuit (snarkjs groth16 setup, then zkey contribute).",
      details: { zkey },
    });
  }
  const request: KeyMatchRequest = {
    zkeyPath,
    verificationKeyPath: context.artifacts.path(verificationKey),
  };
  const match = await context.verifyPool.run<KeyMatch>(KEY_MATCH_WORK, request);
  if (!match.matches) {
    throw new DpnError(
      "ZK_VKEY_MISMATCH",
      `The verification key is not the zkey's: ${match.reason ?? "they differ"}.`,
      {
        hint: "Upload the verification key exported from this zkey (snarkjs zkey export verificationkey).",
        details: { zkey, verificationKey },
      },
    );
  }
  if (circuits.size >= CIRCUITS_KEPT) circuits.clear();
  circuits.set(pair, read.shape);
  return read.shape;
}
