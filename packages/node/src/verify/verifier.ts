import { HashItem, HashOutput, ProofOutput } from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import { ProcessPool } from "./processPool.ts";
import type { VerifyRequest, VerifyResponse } from "./verifyProcess.ts";

/**
 * Checks a task's outputs before anything is paid (docs/protocol.md §Task classification): every Groth16 proof
 * must verify against the job's verification key and carry the job's public inputs; every hash
 * digest must equal the node's own recomputation. Shape checks run here, pairing checks and
 * recomputation in worker threads.
 */
export interface Verdict {
  readonly ok: boolean;
  readonly code?: string;
  readonly reason?: string;
}

export interface ZkContext {
  readonly verificationKeyPath: string;
  /** Names of public inputs; each proof's public signals must end with their values. */
  readonly publicInputs: readonly string[];
  /** The task's items (circuit inputs), in order. */
  readonly items: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** Full expected public signals per item, when the requester gave them. */
  readonly expectedPublicSignals?: ReadonlyArray<readonly string[]> | undefined;
}

const ACCEPTED: Verdict = { ok: true };
const reject = (code: string, reason: string): Verdict => ({ ok: false, code, reason });

function flatten(value: unknown): string[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [String(value)];
}

export class Verifier {
  private readonly pool: ProcessPool<VerifyRequest, VerifyResponse>;

  constructor(processes: number) {
    this.pool = new ProcessPool(new URL("./verifyProcess.ts", import.meta.url), processes);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async verifyHash(items: readonly unknown[], outputs: readonly unknown[]): Promise<Verdict> {
    if (outputs.length !== items.length)
      return reject(
        "RESULT_WRONG_COUNT",
        `expected ${items.length} outputs, got ${outputs.length}`,
      );
    const parsedItems = items.map((item) => HashItem.parse(item));
    const digests: string[] = [];
    for (const output of outputs) {
      const parsed = HashOutput.safeParse(output);
      if (!parsed.success)
        return reject("RESULT_MALFORMED", "a hash output is not { digest: <64 hex> }");
      digests.push(parsed.data.digest);
    }
    const response = await this.pool.run({ kind: "hash", items: parsedItems });
    if (response.kind !== "hash") throw new Error("verify worker answered the wrong kind");
    const wrong = response.digests.findIndex((digest, i) => digest !== digests[i]);
    return wrong === -1
      ? ACCEPTED
      : reject("RESULT_WRONG", `item ${wrong}: the digest does not match the recomputation`);
  }

  async verifyGroth16(context: ZkContext, outputs: readonly unknown[]): Promise<Verdict> {
    if (outputs.length !== context.items.length) {
      return reject(
        "RESULT_WRONG_COUNT",
        `expected ${context.items.length} proofs, got ${outputs.length}`,
      );
    }
    const proofs: Array<{ proof: Groth16Proof; publicSignals: string[] }> = [];
    for (const [i, output] of outputs.entries()) {
      const parsed = ProofOutput.safeParse(output);
      if (!parsed.success)
        return reject("RESULT_MALFORMED", `item ${i}: not a Groth16 proof with public signals`);
      const item = context.items[i] ?? {};
      const inputs = context.publicInputs.flatMap((name) => flatten(item[name]));
      const signals = parsed.data.publicSignals;
      const tail = signals.slice(signals.length - inputs.length);
      if (inputs.length > signals.length || tail.some((value, k) => value !== inputs[k])) {
        return reject(
          "PROOF_WRONG_STATEMENT",
          `item ${i}: the proof's public inputs are not the job's`,
        );
      }
      const expected = context.expectedPublicSignals?.[i];
      if (
        expected !== undefined &&
        (expected.length !== signals.length || expected.some((v, k) => v !== signals[k]))
      ) {
        return reject(
          "PROOF_WRONG_STATEMENT",
          `item ${i}: the public signals are not the expected ones`,
        );
      }
      // The schema checked the tuple shapes snarkjs's types spell out.
      proofs.push({ proof: parsed.data.proof as Groth16Proof, publicSignals: signals });
    }
    const response = await this.pool.run({
      kind: "groth16",
      verificationKeyPath: context.verificationKeyPath,
      proofs,
    });
    if (response.kind !== "groth16") throw new Error("verify worker answered the wrong kind");
    const invalid = response.valid.indexOf(false);
    return invalid === -1
      ? ACCEPTED
      : reject("PROOF_INVALID", `item ${invalid}: the proof does not verify`);
  }
}
