import { scryptSync } from "node:crypto";
import { memoryProbeParams, memoryProbeSalt } from "@dpn/wire";

/**
 * The capability challenge's memory probe, recomputed by the node (docs/protocol.md §Devices):
 * scrypt of the challenge seed in `memoryMiB`. A verify-pool work module (`work`), so the node's
 * event loop never holds the probe's memory or waits for it.
 */
export interface MemoryProbeRequest {
  readonly seed: string;
  readonly memoryMiB: number;
}

export async function work(request: MemoryProbeRequest): Promise<string> {
  const { N, r, p } = memoryProbeParams(request.memoryMiB);
  return scryptSync(Buffer.from(request.seed, "hex"), memoryProbeSalt(), 32, {
    N,
    r,
    p,
    maxmem: 128 * N * r + 1024 * 1024,
  }).toString("hex");
}

export const MEMORY_PROBE_WORK = new URL(import.meta.url);
