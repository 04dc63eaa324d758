import { hash } from "node:crypto";
import { DpnError } from "@dpn/protocol";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import type { Executor } from "./kind.ts";

/** The `hash` item schema's bound (@dpn/wire HashItem): ~2 min of one core at 800k/s. */
export const MAX_HASH_ITERATIONS = 100_000_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The reference workload of the compute unit (docs/protocol.md §Compute units), used both by the
 * capability challenge and by `hash` tasks: d0 = the 32 bytes of `seedHex`, d(i+1) = SHA-256(d(i)),
 * result hex(d(iterations)). `crypto.hash` (one-shot) is ~30% faster here than createHash per
 * round, and a device is paid by the CU it delivers, so it uses the fastest correct path.
 */
export function iterateSha256(seedHex: string, iterations: number): string {
  if (!SHA256_HEX.test(seedHex)) {
    throw new DpnError(DEVICE_TASK_INVALID, "A hash seed is not 64 lower-case hex digits.", {
      hint: "The node sent a malformed hash item; it is a node bug, report it.",
      details: { seed: seedHex.slice(0, 80) },
    });
  }
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_HASH_ITERATIONS) {
    throw new DpnError(
      DEVICE_TASK_INVALID,
      `Hash iterations must be an integer in [1, ${MAX_HASH_ITERATIONS}].`,
      { hint: "The node sent a malformed hash item.", details: { iterations } },
    );
  }
  let digest: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = hash("sha256", digest, "buffer");
  return digest.toString("hex");
}

/** `hash`: every item's digest, item by item on the worker pool. */
export const hashExecutor: Executor<"hash"> = {
  type: "hash",
  async run(lease, { pool }, signal) {
    const outputs: unknown[] = [];
    for (const { seed, iterations } of lease.items) {
      outputs.push((await pool.run({ type: "hash", seed, iterations }, signal)).output);
    }
    return outputs;
  },
};
