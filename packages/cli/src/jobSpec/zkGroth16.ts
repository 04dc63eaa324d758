import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  exampleInputs,
  expectedPublicSignals,
  poseidonChain,
  readZkeyShape,
  ZkeyFormatError,
} from "@dpn/circuits";
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
      o.inputs === undefined
    ) {
      throw invalidOption(
        "A custom circuit needs --wasm, --zkey, --vkey and --inputs.",
        "Or use --circuit example.",
      );
    }
    const inputs = JSON.parse(readFileSync(o.inputs, "utf8")) as ZkSpec["items"];
    // The node prices the job from the zkey's own count; reading it here gives the same quote
    // for the default budget, and a declared --constraints is only passed on to be checked.
    const shape = await readZkeyShape(o.zkey).catch((error: unknown) => {
      if (error instanceof ZkeyFormatError) {
        throw invalidOption(
          `--zkey: ${error.message}.`,
          "Pass the circuit's snarkjs Groth16 zkey.",
        );
      }
      throw error;
    });
    const declared =
      o.constraints === undefined ? undefined : count(o.constraints, "--constraints", 1, 1 << 28);
    const spec: ZkSpec = {
      type: "zk-groth16",
      artifacts: {
        wasm: await client.uploadArtifact(readFileSync(o.wasm)),
        zkey: await client.uploadArtifact(readFileSync(o.zkey)),
        verificationKey: await client.uploadArtifact(readFileSync(o.vkey)),
      },
      ...(declared === undefined ? {} : { constraints: declared }),
      publicInputs: (o.publicInputs ?? "").split(",").filter((s) => s !== ""),
      items: inputs,
      ...(o.allowUnboundItems === true ? { allowUnboundItems: true } : {}),
    };
    return {
      spec,
      cu: costCu({ type: "zk-groth16", constraints: shape.constraints, proofs: inputs.length }),
    };
  },
};
