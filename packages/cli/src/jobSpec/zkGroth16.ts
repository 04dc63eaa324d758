import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { exampleInputs, expectedPublicSignals, poseidonChain } from "@dpn/circuits";
import { costCu } from "@dpn/protocol";
import type { JobSubmit } from "@dpn/wire";
import { count, invalidOption, type JobSpecBuilder } from "./kind.ts";

type ZkSpec = Extract<JobSubmit["spec"], { type: "zk-groth16" }>;

/**
 * Groth16 proofs: the example circuit (uploaded on the fly) or a circuit of the user's (wasm,
 * zkey, verification key, inputs file).
 */
export const zkGroth16Spec: JobSpecBuilder<"zk-groth16"> = {
  type: "zk-groth16",
  async build(client, o) {
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
      const spec: ZkSpec = {
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
      throw invalidOption(
        "A custom circuit needs --wasm, --zkey, --vkey, --inputs and --constraints.",
        "Or use --circuit example.",
      );
    }
    const inputs = JSON.parse(readFileSync(o.inputs, "utf8")) as ZkSpec["items"];
    const constraints = count(o.constraints, "--constraints", 1, 1 << 28);
    const spec: ZkSpec = {
      type: "zk-groth16",
      artifacts: {
        wasm: await client.uploadArtifact(readFileSync(o.wasm)),
        zkey: await client.uploadArtifact(readFileSync(o.zkey)),
        verificationKey: await client.uploadArtifact(readFileSync(o.vkey)),
      },
      constraints,
      publicInputs: (o.publicInputs ?? "").split(",").filter((s) => s !== ""),
      items: inputs,
    };
    return { spec, cu: costCu({ type: "zk-groth16", constraints, proofs: inputs.length }) };
  },
};
