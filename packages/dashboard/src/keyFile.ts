import { base64ToBytes, type Identity, identityFromSeeds } from "@dpn/wire";

/**
 * Reads a `dpn keys new` identity file (format dpn-identity/v1) in the browser, so a requester can
 * sign an action such as cancelling a job with their own key. The file is read into memory for
 * one signature and never stored or sent: only the signed envelope and the public keys leave.
 */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}

/** Both seeds of an identity are 32 bytes (Ed25519 and ML-DSA-44 key generation seeds). */
const SEED_BYTES = 32;

export function identityFromKeyFile(text: string): Identity {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeyFileError(
      "This file is not JSON. Choose the identity.json that `dpn keys new` wrote.",
    );
  }
  const file = parsed as Partial<Record<"format" | "id" | "ed25519Seed" | "mldsa44Seed", unknown>>;
  if (
    file.format !== "dpn-identity/v1" ||
    typeof file.id !== "string" ||
    typeof file.ed25519Seed !== "string" ||
    typeof file.mldsa44Seed !== "string"
  ) {
    throw new KeyFileError(
      'This is not a DPN identity file (it needs format "dpn-identity/v1", id and both seeds).',
    );
  }
  const ed25519Seed = base64ToBytes(file.ed25519Seed);
  const mldsa44Seed = base64ToBytes(file.mldsa44Seed);
  if (ed25519Seed?.length !== SEED_BYTES || mldsa44Seed?.length !== SEED_BYTES) {
    throw new KeyFileError("The file's seeds are damaged: each must be 32 bytes of base64.");
  }
  const identity = identityFromSeeds(ed25519Seed, mldsa44Seed);
  if (identity.id !== file.id) {
    throw new KeyFileError(
      `The file says ${file.id}, but its seeds belong to ${identity.id}: the file was edited or damaged.`,
    );
  }
  return identity;
}
