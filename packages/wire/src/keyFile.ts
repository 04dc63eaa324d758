import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { DpnError } from "@dpn/protocol";
import { base64ToBytes, bytesToBase64 } from "./encoding.ts";
import { type Identity, identityFromSeeds } from "./identity.ts";

/**
 * Identity key files: JSON holding the two 32-byte seeds and the public id, written with mode
 * 0600 (owner read/write only) and refused if another user can read them. Node only (the file
 * system): exported from `@dpn/wire/node`, not from the isomorphic main entry.
 */
interface KeyFileJson {
  readonly format: "dpn-identity/v1";
  readonly id: string;
  readonly ed25519Seed: string;
  readonly mldsa44Seed: string;
}

export const KEYFILE_INVALID = "KEYFILE_INVALID";

export function writeKeyFile(
  path: string,
  identity: Identity,
  options: { overwrite?: boolean } = {},
): void {
  const json: KeyFileJson = {
    format: "dpn-identity/v1",
    id: identity.id,
    ed25519Seed: bytesToBase64(identity.ed25519Seed),
    mldsa44Seed: bytesToBase64(identity.mldsa44Seed),
  };
  try {
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`, {
      mode: 0o600,
      flag: options.overwrite === true ? "w" : "wx",
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new DpnError("KEYFILE_EXISTS", `${path} already exists.`, {
        hint: "Choose another path, or pass --force to replace it (the old identity is lost).",
      });
    }
    throw error;
  }
  // umask cannot widen 0600, but an existing file keeps its mode on overwrite: set it explicitly.
  chmodSync(path, 0o600);
}

export function readKeyFile(path: string): Identity {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) {
      throw new DpnError("KEYFILE_PERMISSIONS", `${path} can be read by other users.`, {
        hint: `Run chmod 600 ${path}.`,
      });
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof DpnError) throw error;
    throw new DpnError("KEYFILE_UNREADABLE", `Cannot read the key file ${path}.`, {
      hint: "Check the path, or create an identity with `dpn keys new`.",
      cause: error,
    });
  }
  let json: Partial<KeyFileJson>;
  try {
    json = JSON.parse(text) as Partial<KeyFileJson>;
  } catch (error) {
    throw new DpnError(KEYFILE_INVALID, `${path} is not a DPN key file.`, { cause: error });
  }
  if (
    json.format !== "dpn-identity/v1" ||
    typeof json.ed25519Seed !== "string" ||
    typeof json.mldsa44Seed !== "string"
  ) {
    throw new DpnError(KEYFILE_INVALID, `${path} is not a DPN key file.`, {
      hint: "Create an identity with `dpn keys new`.",
    });
  }
  const ed25519Seed = base64ToBytes(json.ed25519Seed);
  const mldsa44Seed = base64ToBytes(json.mldsa44Seed);
  if (ed25519Seed === undefined || mldsa44Seed === undefined) {
    throw new DpnError(KEYFILE_INVALID, `${path}: a seed is not base64.`, {
      hint: "The file is damaged; restore it from a backup.",
    });
  }
  const identity = identityFromSeeds(ed25519Seed, mldsa44Seed);
  if (identity.id !== json.id) {
    throw new DpnError(KEYFILE_INVALID, `${path}: the seeds do not produce the recorded id.`, {
      hint: "The file is damaged; restore it from a backup.",
    });
  }
  return identity;
}
