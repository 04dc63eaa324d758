import { costCu, DpnError } from "@dpn/protocol";
import { ProofOutput } from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import { requireUsable } from "../../artifactAccess.ts";
import type { NodeStore } from "../../store/open.ts";
import type { TaskRow } from "../../store/schema.ts";
import { tasksOf } from "../../store/tasks.ts";
import type { KindFactory, Verdict } from "../kind.ts";
import { itemsOf, refuse, splitItems } from "../plan.ts";
import { concatOutputs } from "../results.ts";
import { checkCircuit } from "./circuit.ts";
import { PAIRING_WORK, type PairingRequest } from "./pairing.ts";
import { checkStatements, proofKey, publicInputValues } from "./statement.ts";

/**
 * `zk-groth16`: Groth16 proofs of one circuit. The job is priced from the constraint count read
 * in its zkey. Every proof must verify against the job's verification key and carry the job's
 * public inputs (and, when the requester gave them, the expected public signals), and be no copy
 * of another proof of the job, before anything is paid.
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
    const shape = await checkCircuit(context, spec.artifacts);
    if (spec.constraints !== undefined && spec.constraints !== shape.constraints) {
      throw new DpnError(
        "ZK_CONSTRAINTS_MISMATCH",
        `The job declares ${spec.constraints} constraints; its zkey has ${shape.constraints}.`,
        {
          hint: `The zkey's count prices the job: declare constraints: ${shape.constraints}, or leave constraints out.`,
          details: { declared: spec.constraints, constraints: shape.constraints },
        },
      );
    }
    checkStatements(spec, shape.nPublic);
    const perProof = costCu(
      { type: "zk-groth16", constraints: shape.constraints, proofs: 1 },
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
    const seen =
      spec.allowUnboundItems === true
        ? await otherProofs(context.store.db, task)
        : new Set<string>();
    for (const [i, output] of outputs.entries()) {
      const parsed = ProofOutput.safeParse(output);
      if (!parsed.success)
        return refuse("RESULT_MALFORMED", `item ${i}: not a Groth16 proof with public signals`);
      const inputs = publicInputValues(spec, items[i] ?? {});
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
      // A proof binds its public signals, so a copy can only pass for an item of the same
      // statement; such items exist only when the requester allowed them, and then a copy
      // returned for a second item is the same work paid twice.
      const key = proofKey(parsed.data.proof);
      if (seen.has(key)) {
        return refuse("PROOF_DUPLICATE", `item ${i}: the same proof was returned for another item`);
      }
      seen.add(key);
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

/**
 * The proofs returned for the job's other fragments (their outputs once verified). A result
 * verified at the same moment as this one is not among them: the check narrows naive replays,
 * it does not close every race.
 */
async function otherProofs(db: NodeStore["db"], task: TaskRow): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const other of await tasksOf(db, task.job_id)) {
    if (other.idx === task.idx || other.output_json === null) continue;
    for (const output of JSON.parse(other.output_json) as unknown[]) {
      const parsed = ProofOutput.safeParse(output);
      if (parsed.success) keys.add(proofKey(parsed.data.proof));
    }
  }
  return keys;
}
