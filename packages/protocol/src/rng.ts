import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { DpnError } from "./errors.ts";
import { positiveInteger } from "./validate.ts";

/**
 * Seeded randomness (docs/protocol.md §Randomness). The protocol never calls Math.random: every
 * random choice draws from an Rng that the caller created from a recorded seed, so anyone can
 * re-run a choice and audit it.
 */
export interface Rng {
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** A uniform integer in [0, maxExclusive), without modulo bias. */
  nextInt(maxExclusive: number): number;
}

/**
 * SHA-256 in counter mode: block i = SHA-256(SHA-256(seed) || uint64be(i)), read as eight
 * big-endian uint32 words. Chosen over a faster generator because an auditor can reproduce it
 * from this one sentence in any language, and because its output cannot be steered by choosing
 * a seed. Throughput (~4M words/s here) is far above what scheduling needs.
 */
export function seededRng(seed: string): Rng {
  if (typeof seed !== "string" || seed.length === 0) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "seed must be a non-empty string.", {
      hint: "Derive the seed from recorded public inputs, for example the job id and epoch.",
    });
  }
  const key = sha256(utf8ToBytes(seed));
  const input = new Uint8Array(key.length + 8);
  input.set(key, 0);
  const inputView = new DataView(input.buffer);
  let counter = 0n;
  let words = new Uint32Array(0);
  let index = 0;

  const refill = (): void => {
    inputView.setBigUint64(key.length, counter);
    counter += 1n;
    const block = sha256(input);
    const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
    words = new Uint32Array(8);
    for (let i = 0; i < 8; i++) words[i] = view.getUint32(i * 4);
    index = 0;
  };

  const nextUint32 = (): number => {
    if (index >= words.length) refill();
    const word = words[index];
    index += 1;
    // refill() always yields 8 words, so the read above is in range.
    return word as number;
  };

  return {
    nextUint32,
    nextFloat(): number {
      const high = nextUint32() >>> 5; // 27 bits
      const low = nextUint32() >>> 6; // 26 bits
      return (high * 67_108_864 + low) / 9_007_199_254_740_992;
    },
    nextInt(maxExclusive: number): number {
      positiveInteger("maxExclusive", maxExclusive);
      if (maxExclusive > 2 ** 32) {
        throw new DpnError("PROTOCOL_INVALID_INPUT", "maxExclusive must be <= 2^32.");
      }
      // Rejection sampling: discard the top partial range so every value is equally likely.
      const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
      for (;;) {
        const value = nextUint32();
        if (value < limit) return value % maxExclusive;
      }
    },
  };
}
