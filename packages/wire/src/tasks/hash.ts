import { z } from "zod";
import { MAX_JOB_ITEMS, Sha256Hex } from "../schemas.ts";
import { taskWire } from "./kind.ts";

/**
 * `hash`: SHA-256 iterated `iterations` times from `seed`, the reference workload of the compute
 * unit (docs/protocol.md §Compute units). Verified by recomputation.
 */
export const HashItem = z.strictObject({
  seed: Sha256Hex,
  iterations: z.number().int().min(1).max(100_000_000),
});
export type HashItem = z.infer<typeof HashItem>;
export const HashOutput = z.strictObject({ digest: Sha256Hex });
export type HashOutput = z.infer<typeof HashOutput>;

/**
 * Iterations one item of a submitted job may ask for: 5·10⁶, 10 CU at the reference cost model,
 * the node's MAX_VERIFY_CU_PER_TASK (a hash task is verified by redoing it, and one task may not
 * cost the verifier more; ADR 0014). The CLI bounds `--iterations` by this too. A lease's items
 * keep HashItem's wider bound, so a device accepts what any node version sends.
 */
export const MAX_HASH_ITEM_ITERATIONS = 5_000_000;

export const HashJobSpec = z.strictObject({
  type: z.literal("hash"),
  items: z
    .array(HashItem.extend({ iterations: z.number().int().min(1).max(MAX_HASH_ITEM_ITERATIONS) }))
    .min(1)
    .max(MAX_JOB_ITEMS),
});

export const hash = taskWire({
  type: "hash",
  spec: HashJobSpec,
  item: HashItem,
  output: HashOutput,
  capability: undefined,
});
