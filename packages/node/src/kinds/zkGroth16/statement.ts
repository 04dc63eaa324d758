import { DpnError } from "@dpn/protocol";
import type { CircuitInput, SpecOf } from "@dpn/wire";

type ZkSpec = SpecOf<"zk-groth16">;

/**
 * What the node checks each proof of a zk-groth16 job against (docs/protocol.md §Task kinds):
 * the statement of an item is its expected public signals when the requester gave them, and
 * otherwise the values of its named public inputs, which must end the proof's public signals.
 * snarkjs orders public signals as outputs, then public inputs.
 */

/** The named public inputs' values of one item, in order (arrays flattened). */
export function publicInputValues(spec: ZkSpec, item: CircuitInput): string[] {
  return spec.publicInputs.flatMap((name) => flatten(item[name]));
}

function flatten(value: unknown): string[] {
  return Array.isArray(value) ? value.flatMap(flatten) : [String(value)];
}

/**
 * Refuses, at submission, a job no honest device could satisfy or one proof could satisfy for
 * several items, given the circuit's `nPublic` (read from its zkey):
 * - expectedPublicSignals without one entry per item (JOB_INVALID), or a public input named but
 *   absent from an item (JOB_INVALID: its witness cannot be computed);
 * - an item with more public input values than the circuit has public signals, expected signals
 *   of another length than nPublic (the verifier refuses such a proof outright), or expected
 *   signals whose tail is not the item's public inputs (ZK_PUBLIC_SIGNALS_MISMATCH); every
 *   honest proof would be refused and its device would lose reputation for the requester's error;
 * - two items with the same statement, unless `allowUnboundItems` (ZK_STATEMENT_UNBOUND).
 * Only the count of public inputs is bounded, not equated: the zkey does not say how many of
 * its public signals are outputs.
 */
export function checkStatements(spec: ZkSpec, nPublic: number): void {
  const expected = spec.expectedPublicSignals;
  if (expected !== undefined && expected.length !== spec.items.length) {
    throw new DpnError("JOB_INVALID", "expectedPublicSignals must have one entry per item.", {
      hint: "Give the expected public signals of every proof, or none.",
    });
  }
  const statements: string[] = [];
  for (const [index, item] of spec.items.entries()) {
    const missing = spec.publicInputs.find((name) => item[name] === undefined);
    if (missing !== undefined) {
      throw new DpnError("JOB_INVALID", `Item ${index} has no value for public input ${missing}.`, {
        hint: "Give every item a value for each name in publicInputs.",
        details: { item: index, input: missing },
      });
    }
    const inputs = publicInputValues(spec, item);
    if (inputs.length > nPublic) {
      throw signalsMismatch(
        `Item ${index} has ${inputs.length} public input values; the circuit has ${nPublic} public signals.`,
        { item: index, publicInputValues: inputs.length, nPublic },
      );
    }
    const want = expected?.[index];
    if (want !== undefined) {
      if (want.length !== nPublic) {
        throw signalsMismatch(
          `Item ${index} expects ${want.length} public signals; the circuit's proofs carry ${nPublic}.`,
          { item: index, expectedPublicSignals: want.length, nPublic },
        );
      }
      const tail = want.slice(nPublic - inputs.length);
      if (tail.some((value, k) => value !== inputs[k])) {
        throw signalsMismatch(
          `Item ${index}'s expected public signals do not end with its public inputs' values.`,
          { item: index },
        );
      }
    }
    statements.push(JSON.stringify(want ?? inputs));
  }
  if (spec.allowUnboundItems === true || spec.items.length < 2) return;
  const first = new Map<string, number>();
  for (const [index, statement] of statements.entries()) {
    const earlier = first.get(statement);
    if (earlier !== undefined) {
      throw new DpnError(
        "ZK_STATEMENT_UNBOUND",
        `Items ${earlier} and ${index} have the same statement: one proof would be accepted for both.`,
        {
          hint: "Name the public inputs that tell items apart (publicInputs), or give each item its expectedPublicSignals; to pay for several proofs of one statement anyway, set allowUnboundItems: true in the spec.",
          details: { items: [earlier, index] },
        },
      );
    }
    first.set(statement, index);
  }
}

function signalsMismatch(message: string, details: Record<string, unknown>): DpnError {
  return new DpnError("ZK_PUBLIC_SIGNALS_MISMATCH", message, {
    hint: "Public signals are the circuit's outputs, then its public inputs; name in publicInputs only the circuit's public inputs, and give expectedPublicSignals of nPublic values each.",
    details,
  });
}

/** A proof's identity: its three points, as returned. */
export function proofKey(proof: {
  readonly pi_a: readonly string[];
  readonly pi_b: readonly (readonly string[])[];
  readonly pi_c: readonly string[];
}): string {
  return JSON.stringify([proof.pi_a, proof.pi_b, proof.pi_c]);
}
