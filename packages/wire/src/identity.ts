import { DpnError } from "@dpn/protocol";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { ml_dsa44 } from "@noble/post-quantum/ml-dsa.js";
import {
  ED25519_PUBLIC_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
} from "./ed25519.ts";

/**
 * A DPN identity: an Ed25519 key (@noble/curves) and an ML-DSA-44 key (@noble/post-quantum), used
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
  /** The expanded ML-DSA-44 secret key, derived from its seed once (keygen is the slow part). */
  readonly mldsa44SecretKey: Uint8Array;
}

export const IDENTITY_INVALID = "IDENTITY_INVALID";
const SEED_BYTES = 32;
/** FIPS 204, ML-DSA-44: public key 1312 bytes, signature 2420 bytes. */
export const MLDSA44_PUBLIC_BYTES = 1312;
export const MLDSA44_SIGNATURE_BYTES = 2420;

export function identityId(ed25519PublicKey: Uint8Array, mldsa44PublicKey: Uint8Array): string {
  const both = new Uint8Array(ed25519PublicKey.length + mldsa44PublicKey.length);
  both.set(ed25519PublicKey, 0);
  both.set(mldsa44PublicKey, ed25519PublicKey.length);
  return `dpn_${bytesToHex(sha256(both).subarray(0, 20))}`;
}

/** Rebuilds an identity from its two 32-byte seeds. */
export function identityFromSeeds(ed25519Seed: Uint8Array, mldsa44Seed: Uint8Array): Identity {
  if (ed25519Seed.length !== SEED_BYTES || mldsa44Seed.length !== SEED_BYTES) {
    throw new DpnError(IDENTITY_INVALID, "An identity seed is not 32 bytes.", {
      hint: "The key file is damaged; restore it from a backup or create a new identity.",
    });
  }
  const edPublicKey = ed25519PublicKey(ed25519Seed);
  const pq = ml_dsa44.keygen(mldsa44Seed);
  return {
    id: identityId(edPublicKey, pq.publicKey),
    ed25519PublicKey: edPublicKey,
    mldsa44PublicKey: pq.publicKey,
    ed25519Seed,
    mldsa44Seed,
    mldsa44SecretKey: pq.secretKey,
  };
}

/** A fresh identity from the platform's randomness (crypto.getRandomValues, via noble). */
export function newIdentity(): Identity {
  return identityFromSeeds(randomBytes(SEED_BYTES), randomBytes(SEED_BYTES));
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
    ed25519: ed25519Sign(identity.ed25519Seed, message),
    mldsa44: ml_dsa44.sign(message, identity.mldsa44SecretKey),
  };
}

export function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== ED25519_PUBLIC_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
    return false;
  return ed25519Verify(publicKey, message, signature);
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
