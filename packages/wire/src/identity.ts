import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { DpnError } from "@dpn/protocol";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";

/**
 * A DPN identity: an Ed25519 key (node:crypto) and an ML-DSA-44 key (@noble/post-quantum), used
 * together so that a message stays authentic if either scheme falls (docs/protocol.md §Messages).
 * Private keys are kept as their 32-byte seeds; the id commits to both public keys.
 */
export interface PublicIdentity {
  /** "dpn_" + the first 20 bytes of SHA-256(ed25519 public key ‖ ML-DSA-44 public key), hex. */
  readonly id: string;
  readonly ed25519PublicKey: Uint8Array;
  readonly mldsa44PublicKey: Uint8Array;
}

export interface Identity extends PublicIdentity {
  readonly ed25519Seed: Uint8Array;
  readonly mldsa44Seed: Uint8Array;
  /** Cached key objects; derived from the seeds. */
  readonly ed25519PrivateKey: KeyObject;
  readonly mldsa44SecretKey: Uint8Array;
}

export const IDENTITY_INVALID = "IDENTITY_INVALID";
const SEED_BYTES = 32;
const ED25519_PUBLIC_BYTES = 32;
/** FIPS 204, ML-DSA-44: public key 1312 bytes, signature 2420 bytes. */
export const MLDSA44_PUBLIC_BYTES = 1312;
export const MLDSA44_SIGNATURE_BYTES = 2420;

export function identityId(ed25519PublicKey: Uint8Array, mldsa44PublicKey: Uint8Array): string {
  const both = new Uint8Array(ed25519PublicKey.length + mldsa44PublicKey.length);
  both.set(ed25519PublicKey, 0);
  both.set(mldsa44PublicKey, ed25519PublicKey.length);
  return `dpn_${bytesToHex(sha256(both).subarray(0, 20))}`;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

/** RFC 8410 PKCS#8 prefix for an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function ed25519FromSeed(seed: Uint8Array): { privateKey: KeyObject; publicKey: Uint8Array } {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("node:crypto returned an Ed25519 JWK without x");
  return { privateKey, publicKey: new Uint8Array(Buffer.from(jwk.x, "base64url")) };
}

/** Rebuilds an identity from its two 32-byte seeds. */
export function identityFromSeeds(ed25519Seed: Uint8Array, mldsa44Seed: Uint8Array): Identity {
  if (ed25519Seed.length !== SEED_BYTES || mldsa44Seed.length !== SEED_BYTES) {
    throw new DpnError(IDENTITY_INVALID, "An identity seed is not 32 bytes.", {
      hint: "The key file is damaged; restore it from a backup or create a new identity.",
    });
  }
  const ed = ed25519FromSeed(ed25519Seed);
  const pq = ml_dsa44.keygen(mldsa44Seed);
  return {
    id: identityId(ed.publicKey, pq.publicKey),
    ed25519PublicKey: ed.publicKey,
    mldsa44PublicKey: pq.publicKey,
    ed25519Seed,
    mldsa44Seed,
    ed25519PrivateKey: ed.privateKey,
    mldsa44SecretKey: pq.secretKey,
  };
}

/** A fresh identity from the operating system's randomness. */
export function newIdentity(): Identity {
  return identityFromSeeds(
    new Uint8Array(randomBytes(SEED_BYTES)),
    new Uint8Array(randomBytes(SEED_BYTES)),
  );
}

export function publicIdentity(identity: Identity): PublicIdentity {
  return {
    id: identity.id,
    ed25519PublicKey: identity.ed25519PublicKey,
    mldsa44PublicKey: identity.mldsa44PublicKey,
  };
}

/** Checks that public keys have the right sizes and that the id commits to them. */
export function checkPublicIdentity(identity: PublicIdentity): void {
  if (
    identity.ed25519PublicKey.length !== ED25519_PUBLIC_BYTES ||
    identity.mldsa44PublicKey.length !== MLDSA44_PUBLIC_BYTES ||
    identity.id !== identityId(identity.ed25519PublicKey, identity.mldsa44PublicKey)
  ) {
    throw new DpnError(IDENTITY_INVALID, "The public keys do not match the identity id.", {
      hint: "Send the id together with the two public keys it was derived from.",
      details: { id: identity.id },
    });
  }
}

export interface HybridSignature {
  readonly ed25519: Uint8Array;
  readonly mldsa44: Uint8Array;
}

/**
 * Signs with both keys. ML-DSA signing is hedged (fresh randomness mixed in, FIPS 204's
 * default), which protects the key against fault and side-channel attacks.
 */
export function signHybrid(identity: Identity, message: Uint8Array): HybridSignature {
  return {
    ed25519: new Uint8Array(sign(null, message, identity.ed25519PrivateKey)),
    mldsa44: ml_dsa44.sign(message, identity.mldsa44SecretKey),
  };
}

const edKeyCache = new Map<string, KeyObject>();
/** Bounds the cache of parsed Ed25519 public keys (one per active identity). */
const MAX_CACHED_KEYS = 100_000;

function edPublicKey(raw: Uint8Array): KeyObject {
  const cacheKey = b64url(raw);
  let key = edKeyCache.get(cacheKey);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: cacheKey }, format: "jwk" });
    if (edKeyCache.size >= MAX_CACHED_KEYS) edKeyCache.clear();
    edKeyCache.set(cacheKey, key);
  }
  return key;
}

export function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== 64) return false;
  try {
    return verify(null, message, edPublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

export function verifyMldsa44(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== MLDSA44_PUBLIC_BYTES || signature.length !== MLDSA44_SIGNATURE_BYTES)
    return false;
  try {
    return ml_dsa44.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
