import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DpnError } from "@dpn/protocol";

/**
 * Content-addressed artifacts (circuit wasm, zkey, verification key) on disk under
 * `<dataDir>/artifacts/<sha256>`. Written to a temporary file and renamed, so a reader never sees
 * a partial artifact and a crash leaves none behind under its final name.
 */
/** A Groth16 zkey for 2^20 constraints is ~500 MB; 256 MiB covers circuits up to ~2^19. */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

export class ArtifactStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "artifacts");
    mkdirSync(this.dir, { recursive: true });
  }

  path(sha256: string): string {
    return join(this.dir, sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.path(sha256));
  }

  size(sha256: string): number {
    return statSync(this.path(sha256)).size;
  }

  /** Stores `bytes` and returns its SHA-256; `expected` (if given) must match. */
  put(bytes: Uint8Array, expected?: string): string {
    if (bytes.length > MAX_ARTIFACT_BYTES) {
      throw new DpnError(
        "ARTIFACT_TOO_LARGE",
        `The artifact is ${bytes.length} bytes; the limit is ${MAX_ARTIFACT_BYTES}.`,
        {
          hint: "Use a smaller circuit or split the job.",
        },
      );
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (expected !== undefined && expected !== sha256) {
      throw new DpnError(
        "ARTIFACT_HASH_MISMATCH",
        "The artifact's SHA-256 does not match the one announced.",
        {
          hint: "Upload the exact bytes whose hash you sent.",
          details: { expected, actual: sha256 },
        },
      );
    }
    if (!this.has(sha256)) {
      const temp = join(this.dir, `.${sha256}.${randomBytes(6).toString("hex")}.tmp`);
      writeFileSync(temp, bytes, { flush: true });
      renameSync(temp, this.path(sha256));
    }
    return sha256;
  }
}
