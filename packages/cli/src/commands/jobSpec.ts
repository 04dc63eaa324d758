import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { exampleInputs, expectedPublicSignals, poseidonChain } from "@dpn/circuits";
import { costCu, DpnError } from "@dpn/protocol";
import type { DpnClient } from "@dpn/sdk";
import type { JobSubmit } from "@dpn/wire";

/**
 * Builds a job's spec from command-line options: the example circuit (uploaded on the fly), a
 * circuit of the user's (wasm, zkey, verification key, inputs file), or hash work.
 */
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
}

function count(value: string | undefined, name: string, fallback: number, max: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new DpnError("CLI_INVALID_OPTION", `${name} must be a whole number from 1 to ${max}.`, {
      hint: `Pass ${name} <n>.`,
    });
  }
  return n;
}

export async function buildSpec(
  client: DpnClient,
  o: JobSpecOptions,
): Promise<{ spec: JobSubmit["spec"]; cu: number }> {
  if (o.type === "hash") {
    const items = count(o.items, "--items", 64, 10_000);
    const iterations = count(o.iterations, "--iterations", 100_000, 100_000_000);
    const spec: JobSubmit["spec"] = {
      type: "hash",
      items: Array.from({ length: items }, () => ({
        seed: randomBytes(32).toString("hex"),
        iterations,
      })),
    };
    return { spec, cu: items * costCu({ type: "hash", iterations }) };
  }
  if (o.type !== "zk-groth16") {
    throw new DpnError("CLI_INVALID_OPTION", `Unknown job type ${o.type}.`, {
      hint: "Use --type zk-groth16 or --type hash.",
    });
  }
  if (o.circuit === "example" || (o.circuit === undefined && o.wasm === undefined)) {
    const proofs = count(o.proofs, "--proofs", 16, 10_000);
    const artifacts = {
      wasm: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.wasm)),
      zkey: await client.uploadArtifact(readFileSync(poseidonChain.artifacts.zkey)),
      verificationKey: await client.uploadArtifact(
        readFileSync(poseidonChain.artifacts.verificationKey),
      ),
    };
    const items = exampleInputs(o.seed ?? randomBytes(8).toString("hex"), proofs);
    const expected = await Promise.all(items.map((item) => expectedPublicSignals(item)));
    const spec: JobSubmit["spec"] = {
      type: "zk-groth16",
      artifacts,
      constraints: poseidonChain.constraints,
      publicInputs: ["h0"],
      items: items.map((item) => ({ h0: item.h0, x: [...item.x] })),
      expectedPublicSignals: expected,
    };
    return {
      spec,
      cu: costCu({ type: "zk-groth16", constraints: poseidonChain.constraints, proofs }),
    };
  }
  if (
    o.wasm === undefined ||
    o.zkey === undefined ||
    o.vkey === undefined ||
    o.inputs === undefined ||
    o.constraints === undefined
  ) {
    throw new DpnError(
      "CLI_INVALID_OPTION",
      "A custom circuit needs --wasm, --zkey, --vkey, --inputs and --constraints.",
      {
        hint: "Or use --circuit example.",
      },
    );
  }
  const inputs = JSON.parse(readFileSync(o.inputs, "utf8")) as JobSubmit["spec"]["items"];
  const constraints = count(o.constraints, "--constraints", 1, 1 << 28);
  const spec = {
    type: "zk-groth16",
    artifacts: {
      wasm: await client.uploadArtifact(readFileSync(o.wasm)),
      zkey: await client.uploadArtifact(readFileSync(o.zkey)),
      verificationKey: await client.uploadArtifact(readFileSync(o.vkey)),
    },
    constraints,
    publicInputs: (o.publicInputs ?? "").split(",").filter((s) => s !== ""),
    items: inputs,
  } as JobSubmit["spec"];
  return { spec, cu: costCu({ type: "zk-groth16", constraints, proofs: spec.items.length }) };
}
