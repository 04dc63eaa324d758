import { base64ToBytes, bytesToBase64, type Identity, identityFromSeeds } from "@dpn/wire";

/**
 * This tab's device keys as the browser keeps them: only the two 32-byte seeds, base64, in
 * localStorage. The identity (public keys, id, ML-DSA-44 secret key) is derived from them by
 * @dpn/wire, exactly as every other DPN client derives it.
 */
export interface StoredKeys {
  readonly ed25519Seed: string;
  readonly mldsa44Seed: string;
}

/** Fresh seeds from the browser's randomness. */
export function newSeeds(): StoredKeys {
  return {
    ed25519Seed: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
    mldsa44Seed: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
  };
}

/** Rebuilds the identity; throws if a seed is not 32 bytes of base64. */
export function identityFromStoredKeys(stored: StoredKeys): Identity {
  const ed25519Seed = base64ToBytes(stored.ed25519Seed);
  const mldsa44Seed = base64ToBytes(stored.mldsa44Seed);
  if (ed25519Seed === undefined || mldsa44Seed === undefined)
    throw new Error("a key seed is not base64");
  return identityFromSeeds(ed25519Seed, mldsa44Seed);
}
