import { createHash } from "node:crypto";

/**
 * SHA-256 iterated `iterations` times from the seed's bytes: the reference workload of the
 * compute unit (docs/protocol.md §Compute units), which the capability challenge measures.
 * Exported as a verify-pool work module too (`work`), so the node recomputes it off its loop.
 */
export function iteratedSha256(seedHex: string, iterations: number): string {
  let digest: Buffer = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

export interface ChainRequest {
  readonly items: ReadonlyArray<{ readonly seed: string; readonly iterations: number }>;
}

/** The digests of every item (verify pool work). */
export async function work(request: ChainRequest): Promise<string[]> {
  return request.items.map((item) => iteratedSha256(item.seed, item.iterations));
}

export const BENCHMARK_WORK = new URL(import.meta.url);
