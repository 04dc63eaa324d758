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

export const HashJobSpec = z.strictObject({
  type: z.literal("hash"),
  items: z.array(HashItem).min(1).max(MAX_JOB_ITEMS),
});

export const hash = taskWire({
  type: "hash",
  spec: HashJobSpec,
  item: HashItem,
  output: HashOutput,
  capability: undefined,
});
