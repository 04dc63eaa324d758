import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { idleMsAfter } from "./dutyCycle.ts";

/**
 * Iterations between rests (CPU share) and abort checks: ~10 ms of hashing in a Web Worker.
 * Synchronous JavaScript SHA-256 (@noble/hashes), not WebCrypto: `crypto.subtle.digest` is one
 * asynchronous round trip per iteration and measures the browser's promise latency (≈ 0.2 CU/s
 * in Chromium on the reference machine), not its CPU (≈ 1.0–1.25 CU/s this way, as much as
 * Node's native SHA-256 on the same core).
 */
export const HASH_SLICE = 4096;

export interface HashOptions {
  /** Fraction of one core to use: after each slice of t ms, rest t·(1 − share)/share. */
  readonly cpuShare?: number;
  /** Stops the work between slices. */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The hash task and the capability benchmark (docs/protocol.md §Task types, §Devices): SHA-256
 * applied `iterations` times to the 32-byte seed. The node recomputes it to verify.
 */
export async function iterateSha256(
  seedHex: string,
  iterations: number,
  options: HashOptions = {},
): Promise<string> {
  let digest = hexToBytes(seedHex);
  for (let done = 0; done < iterations; ) {
    const started = performance.now();
    const end = Math.min(iterations, done + HASH_SLICE);
    for (; done < end; done++) digest = sha256(digest);
    if (options.signal?.aborted) throw new Error("stopped");
    const idle = idleMsAfter(performance.now() - started, options.cpuShare ?? 1);
    if (idle > 0) await sleep(idle);
  }
  return bytesToHex(digest);
}
