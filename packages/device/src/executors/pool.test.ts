import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  exampleInputs,
  expectedPublicSignals,
  loadVerificationKey,
  poseidonChain,
  useSingleThreadedCurve,
} from "@dpn/circuits";
import { ProofOutput } from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExecutorPool, type ExecutorPool } from "./pool.ts";

function reference(seedHex: string, iterations: number): string {
  let digest = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

describe("executor pool", () => {
  let pool: ExecutorPool;
  beforeAll(async () => {
    pool = createExecutorPool({ threads: 1 });
    // The test verifies in this thread: a single-threaded curve starts no threads to clean up.
    await useSingleThreadedCurve();
  });
  afterAll(async () => {
    await pool.destroy();
  });

  it("runs a hash item in a worker thread (TypeScript loaded under Vitest)", async () => {
    const seed = "c3".repeat(32);
    const result = await pool.run({ type: "hash", seed, iterations: 5000 });
    expect(result.output).toEqual({ digest: reference(seed, 5000) });
    expect(result.elapsedMs).toBeGreaterThan(0);
  });

  it("proves an example-circuit input with a proof that verifies against its key", async () => {
    const [input] = exampleInputs("device-test", 1);
    if (input === undefined) throw new Error("exampleInputs returned nothing");
    const result = await pool.run({
      type: "zk-groth16",
      input: { h0: input.h0, x: [...input.x] },
      wasmPath: poseidonChain.artifacts.wasm,
      zkeyPath: poseidonChain.artifacts.zkey,
    });
    const output = ProofOutput.parse(result.output);
    expect(output.publicSignals).toEqual(await expectedPublicSignals(input));
    const vkey = await loadVerificationKey();
    // ProofOutput checked the tuple lengths that snarkjs's tuple types express.
    const proof = output.proof as Groth16Proof;
    expect(await snarkjs.groth16.verify(vkey, output.publicSignals, proof)).toBe(true);
    // A proof is bound to its statement: another h0 does not verify.
    const forged = [output.publicSignals[0] ?? "0", "1"];
    expect(await snarkjs.groth16.verify(vkey, forged, proof)).toBe(false);
  });

  it("rejects an input that violates the circuit with DEVICE_EXECUTION_FAILED", async () => {
    await expect(
      pool.run({
        type: "zk-groth16",
        input: { h0: "1", x: ["1"] },
        wasmPath: poseidonChain.artifacts.wasm,
        zkeyPath: poseidonChain.artifacts.zkey,
      }),
    ).rejects.toMatchObject({ code: "DEVICE_EXECUTION_FAILED" });
  });

  it("aborts a running item when its signal fires", async () => {
    const controller = new AbortController();
    const run = pool.run(
      { type: "hash", seed: "00".repeat(32), iterations: 50_000_000 },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 50);
    await expect(run).rejects.toThrow();
  });

  it("loads the TypeScript worker, snarkjs included, when the parent runs under tsx", async () => {
    const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
    const script = fileURLToPath(new URL("./fixtures/poolSmoke.ts", import.meta.url));
    // From an unrelated directory: the worker's loader must not be resolved from the cwd.
    const { stdout } = await promisify(execFile)(process.execPath, [tsxCli, script], {
      cwd: tmpdir(),
      timeout: 30_000,
    });
    const printed = JSON.parse(stdout) as { hash: unknown; zk: unknown };
    expect(printed.hash).toEqual({ digest: reference("ab".repeat(32), 1000) });
    const [input] = exampleInputs("pool-smoke", 1);
    if (input === undefined) throw new Error("exampleInputs returned nothing");
    expect(ProofOutput.parse(printed.zk).publicSignals).toEqual(await expectedPublicSignals(input));
  });
});
