import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex, concatBytes } from "@noble/hashes/utils.js";

/**
 * Ed25519 in pure JavaScript (@noble/curves), so the same code signs and verifies in Node and in
 * a browser. Verification is RFC 8032 strict (`zip215: false`: canonical encodings only, s < L,
 * no small-order public key), as OpenSSL's was before.
 *
 * Most of a verification is the multiplication k·A by the sender's public key A. A verifier
 * hears the same few keys again and again (a device its node; a node its connected devices), so
 * for a key seen twice a precomputed table of A's multiples is kept, which makes a verification
 * about 2.5× faster. Tables are bounded (MAX_KEY_TABLES) and replaced slowly when full, so a
 * verifier with more active senders than tables pays the plain cost, not a rebuild per message.
 */
export const ED25519_PUBLIC_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** ~113 KB each (a 4-bit window table): 256 tables bound the cache to about 30 MB. */
export const MAX_KEY_TABLES = 256;
/** Keys seen once, remembered to admit them on their second use; cleared when full. */
const MAX_KEYS_SEEN_ONCE = 4 * MAX_KEY_TABLES;
/**
 * With every table in use, at most one is replaced per this many verifications. Building a table
 * costs about three verifications; spread over 32 it adds under 10% when senders outnumber tables.
 */
const VERIFICATIONS_PER_REPLACEMENT = 32;
/** Window of the precomputed tables: 4 bits is most of the speed-up of 8 at a 16th of the memory. */
const TABLE_WINDOW_BITS = 4;

type Point = ReturnType<typeof ed25519.Point.fromBytes>;
const { Point: EdPoint } = ed25519;
const Fn = EdPoint.Fn;

/** The 32-byte public key of a 32-byte seed (RFC 8032 §5.1.5). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** Deterministic Ed25519 signature (RFC 8032 §5.1.6). */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, seed);
}

const tables = new Map<string, Point>();
const seenOnce = new Set<string>();
let verificationsSinceReplacement = 0;

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  return value;
}

/**
 * The decoded key with its table, if it has earned one. Map order is insertion order, and a hit
 * re-inserts the key, so the first key is the least recently used.
 */
function tableFor(publicKey: Uint8Array): Point | undefined {
  const key = bytesToHex(publicKey);
  const hit = tables.get(key);
  if (hit !== undefined) {
    tables.delete(key);
    tables.set(key, hit);
    return hit;
  }
  if (!seenOnce.has(key)) {
    if (seenOnce.size >= MAX_KEYS_SEEN_ONCE) seenOnce.clear();
    seenOnce.add(key);
    return undefined;
  }
  if (tables.size >= MAX_KEY_TABLES) {
    if (verificationsSinceReplacement < VERIFICATIONS_PER_REPLACEMENT) return undefined;
    const oldest = tables.keys().next().value;
    if (oldest !== undefined) tables.delete(oldest);
    verificationsSinceReplacement = 0;
  }
  let point: Point;
  try {
    point = EdPoint.fromBytes(publicKey, false);
  } catch {
    return undefined; // not a point: the plain verification below refuses it
  }
  if (point.isSmallOrder()) return undefined;
  seenOnce.delete(key);
  tables.set(key, point.precompute(TABLE_WINDOW_BITS, false));
  return point;
}

/**
 * RFC 8032 §5.1.7 with a cached A, the same checks and equation as @noble/curves' strict verify
 * ([8]·(R + k·A − s·B) = 0); ed25519.test.ts checks that both agree.
 */
function verifyWithTable(
  A: Point,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) {
  const r = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32, 64));
  if (!Fn.isValid(s)) return false;
  let R: Point;
  try {
    R = EdPoint.fromBytes(r, false);
  } catch {
    return false;
  }
  const k = Fn.create(littleEndian(sha512(concatBytes(r, publicKey, message))));
  const SB = EdPoint.BASE.multiplyUnsafe(s);
  return R.add(A.multiplyUnsafe(k)).subtract(SB).clearCofactor().is0();
}

export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
    return false;
  verificationsSinceReplacement += 1;
  try {
    const table = tableFor(publicKey);
    return table === undefined
      ? ed25519.verify(signature, message, publicKey, { zip215: false })
      : verifyWithTable(table, publicKey, message, signature);
  } catch {
    return false;
  }
}

/** For tests: forget every table, as a fresh process would. */
export function resetEd25519Tables(): void {
  tables.clear();
  seenOnce.clear();
  verificationsSinceReplacement = 0;
}
