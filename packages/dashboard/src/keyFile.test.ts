import { bytesToBase64, newIdentity } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { identityFromKeyFile, KeyFileError } from "./keyFile.ts";

const identity = newIdentity();

function file(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    format: "dpn-identity/v1",
    id: identity.id,
    ed25519Seed: bytesToBase64(identity.ed25519Seed),
    mldsa44Seed: bytesToBase64(identity.mldsa44Seed),
    ...overrides,
  });
}

describe("identityFromKeyFile", () => {
  it("rebuilds the identity `dpn keys new` wrote", () => {
    const read = identityFromKeyFile(file());
    expect(read.id).toBe(identity.id);
    expect(read.mldsa44PublicKey).toEqual(identity.mldsa44PublicKey);
  });

  it("says what is wrong with a file that is not a key file", () => {
    expect(() => identityFromKeyFile("hello")).toThrow(/not JSON/);
    expect(() => identityFromKeyFile(file({ format: "pem" }))).toThrow(/not a DPN identity file/);
    expect(() => identityFromKeyFile(file({ ed25519Seed: "AAAA" }))).toThrow(/32 bytes of base64/);
    expect(() => identityFromKeyFile(file({ mldsa44Seed: "not base64!" }))).toThrow(KeyFileError);
    const other = newIdentity().id;
    expect(() => identityFromKeyFile(file({ id: other }))).toThrow(
      `The file says ${other}, but its seeds belong to ${identity.id}`,
    );
  });
});
