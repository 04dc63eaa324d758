import { bytesToHex, hexToBytes } from "./envelope.ts";

/** Iterations between yields to the event loop (and CPU-share pauses): ~1-5 ms of hashing. */
export const HASH_CHUNK = 256;

export interface HashOptions {
  /** Fraction of one core to use, (0, 1]: after each chunk, sleep (1/share − 1) × its time. */
  readonly cpuShare?: number;
  /** Stops the work between chunks. */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The hash task (docs/protocol.md §Task types): SHA-256 applied `iterations` times to the
 * 32-byte seed, with WebCrypto. The node recomputes it to verify.
 */
export async function iterateSha256(
  seedHex: string,
  iterations: number,
  options: HashOptions = {},
): Promise<string> {
  const share = Math.min(1, Math.max(0.05, options.cpuShare ?? 1));
  let digest: ArrayBuffer = hexToBytes(seedHex).slice().buffer;
  for (let done = 0; done < iterations; ) {
    const started = performance.now();
    const end = Math.min(iterations, done + HASH_CHUNK);
    for (; done < end; done++) digest = await crypto.subtle.digest("SHA-256", digest);
    if (options.signal?.aborted) throw new Error("stopped");
    if (share < 1) await sleep((performance.now() - started) * (1 / share - 1));
  }
  return bytesToHex(new Uint8Array(digest));
}
