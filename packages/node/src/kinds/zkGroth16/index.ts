import { costCu, DpnError } from "@dpn/protocol";
import { ProofOutput } from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import { requireUsable } from "../../artifactAccess.ts";
import type { KindFactory, Verdict } from "../kind.ts";
import { itemsOf, refuse, splitItems } from "../plan.ts";
import { concatOutputs } from "../results.ts";
import { KEY_MATCH_WORK, type KeyMatch, type KeyMatchRequest } from "./keyMatch.ts";
import { PAIRING_WORK, type PairingRequest } from "./pairing.ts";

/**
 * `zk-groth16`: Groth16 proofs of one circuit. Every proof must verify against the job's
 * verification key and carry the job's public inputs (and, when the requester gave them, the
 * expected public signals) before anything is paid.
 */
export const zkGroth16Kind: KindFactory<"zk-groth16"> = (context) => ({
  type: "zk-groth16",
  async plan({ spec, requester, eligibleDevices }) {
    for (const sha of Object.values(spec.artifacts)) {
      // Asked first, so a stranger cannot learn whether someone stored these bytes.
      await requireUsable(context.store.db, sha, requester, "The circuit artifact");
      if (!context.artifacts.has(sha)) {
        throw new DpnError("ARTIFACT_NOT_FOUND", `Artifact ${sha} has not been uploaded.`, {
          hint: "Upload the circuit's wasm, zkey and verification key first (PUT /v1/artifacts/{sha256}).",
        });
      }
    }
    await checkKeysMatch(context, spec.artifacts.zkey, spec.artifacts.verificationKey);
    if (
      spec.expectedPublicSignals !== undefined &&
      spec.expectedPublicSignals.length !== spec.items.length
    ) {
      throw new DpnError("JOB_INVALID", "expectedPublicSignals must have one entry per item.", {
        hint: "Give the expected public signals of every proof, or none.",
      });
    }
    const perProof = costCu(
      { type: "zk-groth16", constraints: spec.constraints, proofs: 1 },
      context.params.costModel,
    );
    return {
      tasks: splitItems(
        spec.items.map(() => perProof),
        eligibleDevices,
      ),
    };
  },
  async lease(task, job) {
    return { artifacts: { ...job.spec.artifacts }, items: itemsOf(job.spec.items, task) };
  },
  async verify(task, outputs, job): Promise<Verdict> {
    const { spec } = job;
    const items = itemsOf(spec.items, task);
    const expected = spec.expectedPublicSignals?.slice(task.item_from, task.item_to);
    if (outputs.length !== items.length) {
      return refuse("RESULT_WRONG_COUNT", `expected ${items.length} proofs, got ${outputs.length}`);
    }
    const proofs: Array<{ proof: Groth16Proof; publicSignals: string[] }> = [];
    for (const [i, output] of outputs.entries()) {
      const parsed = ProofOutput.safeParse(output);
      if (!parsed.success)
        return refuse("RESULT_MALFORMED", `item ${i}: not a Groth16 proof with public signals`);
      const item = items[i] ?? {};
      const inputs = spec.publicInputs.flatMap((name) => flatten(item[name]));
      const signals = parsed.data.publicSignals;
      const tail = signals.slice(signals.length - inputs.length);
      if (inputs.length > signals.length || tail.some((value, k) => value !== inputs[k])) {
        return refuse(
          "PROOF_WRONG_STATEMENT",
          `item ${i}: the proof's public inputs are not the job's`,
        );
      }
      const want = expected?.[i];
      if (
        want !== undefined &&
        (want.length !== signals.length || want.some((v, k) => v !== signals[k]))
      ) {
        return refuse(
          "PROOF_WRONG_STATEMENT",
          `item ${i}: the public signals are not the expected ones`,
        );
      }
      // The schema checked the tuple shapes snarkjs's types spell out.
      proofs.push({ proof: parsed.data.proof as Groth16Proof, publicSignals: signals });
    }
    const request: PairingRequest = {
      verificationKeyPath: context.artifacts.path(spec.artifacts.verificationKey),
      proofs,
    };
    const valid = await context.verifyPool.run<boolean[]>(PAIRING_WORK, request);
    const invalid = valid.indexOf(false);
    return invalid === -1
      ? { ok: true }
      : refuse("PROOF_INVALID", `item ${invalid}: the proof does not verify`);
  },
  async result(_job, tasks) {
    return { outputs: concatOutputs(tasks) };
  },
});

function flatten(value: unknown): string[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [String(value)];
}

/**
 * Pairs of (zkey, verification key) found to match: the check exports a key from the zkey (a
 * fraction of a second for the example circuit), and jobs of one circuit reuse one pair. Bounded:
 * a forgotten pair is only checked again.
 */
const MATCHED_KEYS_KEPT = 1_000;
const matchedKeys = new Set<string>();

async function checkKeysMatch(
  context: Parameters<typeof zkGroth16Kind>[0],
  zkey: string,
  verificationKey: string,
): Promise<void> {
  const pair = `${zkey}:${verificationKey}`;
  if (matchedKeys.has(pair)) return;
  const request: KeyMatchRequest = {
    zkeyPath: context.artifacts.path(zkey),
    verificationKeyPath: context.artifacts.path(verificationKey),
  };
  const result = await context.verifyPool.run<KeyMatch>(KEY_MATCH_WORK, request);
  if (!result.matches) {
    throw new DpnError(
      "ZK_VKEY_MISMATCH",
      `The verification key is not the zkey's: ${result.reason ?? "they differ"}.`,
      {
        hint: "Upload the verification key exported from this zkey (snarkjs zkey export verificationkey).",
        details: { zkey, verificationKey },
      },
    );
  }
  if (matchedKeys.size >= MATCHED_KEYS_KEPT) matchedKeys.clear();
  matchedKeys.add(pair);
}
