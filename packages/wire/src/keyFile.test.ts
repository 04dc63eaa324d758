import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { identityFromSeeds } from "./identity.ts";
import { readKeyFile, writeKeyFile } from "./keyFile.ts";

const alice = identityFromSeeds(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DpnError) return error.code;
    throw error;
  }
  return undefined;
}

describe("key files", () => {
  it("round-trip through a 0600 key file and refuse a world-readable one", () => {
    const dir = mkdtempSync(join(tmpdir(), "dpn-keys-"));
    const path = join(dir, "alice.json");
    writeKeyFile(path, alice);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKeyFile(path).id).toBe(alice.id);
    expect(codeOf(() => writeKeyFile(path, alice))).toBe("KEYFILE_EXISTS");
    const loose = join(dir, "loose.json");
    writeFileSync(loose, "{}", { mode: 0o644 });
    expect(codeOf(() => readKeyFile(loose))).toBe("KEYFILE_PERMISSIONS");
  });

  it("refuse seeds that are not base64", () => {
    const dir = mkdtempSync(join(tmpdir(), "dpn-keys-"));
    const path = join(dir, "damaged.json");
    const json = { format: "dpn-identity/v1", id: alice.id, ed25519Seed: "**", mldsa44Seed: "**" };
    writeFileSync(path, JSON.stringify(json), { mode: 0o600 });
    expect(codeOf(() => readKeyFile(path))).toBe("KEYFILE_INVALID");
  });
});
