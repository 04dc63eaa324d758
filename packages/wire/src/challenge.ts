import { scrypt } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * The capability challenge's work, defined once for the node (which checks it), the native agent
 * and the browser tab (which answer it) (docs/protocol.md §Devices):
 * - `lanes` SHA-256 chains of `iterations` each, lane i from `laneSeed(seed, i)`, run in parallel
 *   over every core the device offers: their total over the time the node observes is the
 *   device's parallel throughput, which a single chain (one core) cannot show;
 * - a scrypt probe of `memoryMiB` (r = 8, so N = memoryMiB × 1024 blocks of 1 KiB): the memory the
 *   device can commit. scrypt is memory-hard: computing it in a fraction of the memory costs a
 *   multiple of the time, and the time is what the node observes.
 */

/** The most lanes a challenge asks: more cores than this are measured as this many. */
export const MAX_CHALLENGE_LANES = 256;
/** The largest memory probe, MiB: the node recomputes it, so it is bounded by what the node spends. */
export const MAX_MEMORY_PROBE_MIB = 1024;
/** scrypt's block size factor; with r = 8 a block is 1 KiB. */
const SCRYPT_R = 8;
const MEMORY_PROBE_SALT = utf8ToBytes("dpn-memory/v1");

/** Lane i's seed: SHA-256 of the challenge seed and i (4 bytes, big-endian). */
export function laneSeed(seedHex: string, lane: number): string {
  const seed = hexToBytes(seedHex);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  new DataView(input.buffer).setUint32(seed.length, lane);
  return bytesToHex(sha256(input));
}

/** scrypt's parameters for a probe of `memoryMiB` (a power of two). */
export function memoryProbeParams(memoryMiB: number): { N: number; r: number; p: number } {
  return { N: memoryMiB * 1024, r: SCRYPT_R, p: 1 };
}

/** The smallest power of two ≥ `mib` (scrypt's N must be one). */
export function memoryProbeSize(mib: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, mib)));
}

/**
 * The probe's answer in plain JavaScript (the browser's path). The native agent and the node use
 * Node's scrypt with the same parameters and salt, which gives the same bytes, faster.
 */
export function memoryProbe(seedHex: string, memoryMiB: number): string {
  const { N, r, p } = memoryProbeParams(memoryMiB);
  const maxmem = 128 * N * r + 1024 * 1024;
  return bytesToHex(scrypt(hexToBytes(seedHex), MEMORY_PROBE_SALT, { N, r, p, dkLen: 32, maxmem }));
}

/** The salt, for implementations that call their platform's scrypt. */
export function memoryProbeSalt(): Uint8Array {
  return MEMORY_PROBE_SALT.slice();
}
