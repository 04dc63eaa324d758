import { DpnError } from "@dpn/protocol";
import type { DpnClient } from "@dpn/sdk";
import type { JobResult, JobSubmit, TaskTypeName } from "@dpn/wire";

/**
 * How `dpn job submit` builds one kind's job spec from command-line options (uploading what the
 * job needs as artifacts), and how `dpn job result --out` writes a kind's result when it is more
 * than JSON. The registry (index.ts) has one per kind, so a kind without one does not compile.
 */
export interface JobSpecBuilder<T extends TaskTypeName> {
  readonly type: T;
  /** Checks what can be checked without a node or keys, so a bad job fails first and fast. */
  precheck?(options: JobSpecOptions): void;
  build(client: DpnClient, options: JobSpecOptions): Promise<BuiltSpec>;
  /** Writes the result's files under `out` (a directory); returns a line saying what it wrote. */
  writeResult?(client: DpnClient, result: JobResult, out: string): Promise<string>;
}

/** The spec, and its cost in compute units (the default budget is twice its quote). */
export interface BuiltSpec {
  readonly spec: JobSubmit["spec"];
  readonly cu: number;
}

/** `dpn job submit`'s options, as commander hands them over (strings). */
export interface JobSpecOptions {
  readonly type: string;
  readonly items?: string;
  readonly iterations?: string;
  readonly circuit?: string;
  readonly proofs?: string;
  readonly seed?: string;
  readonly wasm?: string;
  readonly zkey?: string;
  readonly vkey?: string;
  readonly inputs?: string;
  readonly constraints?: string;
  readonly publicInputs?: string;
  /** zk-groth16: accept items whose statements coincide (one proof would do for each). */
  readonly allowUnboundItems?: boolean;
  readonly query?: string;
  readonly data?: string;
  readonly exampleData?: string;
  readonly epsilon?: string;
  readonly partitions?: string;
  readonly model?: string;
  readonly rounds?: string;
  readonly perRound?: string;
  readonly mode?: string;
  readonly aggregation?: string;
  readonly features?: string;
  readonly labelEpsilon?: string;
  readonly scene?: string;
  readonly frames?: string;
  readonly tiles?: string;
  readonly size?: string;
  readonly samples?: string;
}

export function invalidOption(message: string, hint: string): DpnError {
  return new DpnError("CLI_INVALID_OPTION", message, { hint });
}

/** A whole-number option in [1, max], `fallback` when absent. */
export function count(
  value: string | undefined,
  name: string,
  fallback: number,
  max: number,
): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw invalidOption(`${name} must be a whole number from 1 to ${max}.`, `Pass ${name} <n>.`);
  }
  return n;
}
