import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { DpnError } from "@dpn/protocol";
import { type Identity, nodeEndpoint, readAuthorization } from "@dpn/wire";
import {
  DEVICE_ARTIFACT_FETCH_FAILED,
  DEVICE_ARTIFACT_HASH_MISMATCH,
  DEVICE_ARTIFACT_TOO_LARGE,
  DEVICE_OPTIONS_INVALID,
} from "./errors.ts";

/**
 * Largest single artifact the agent downloads: a Groth16 zkey grows ~565 bytes per constraint
 * (2.17 MB for the 3,840-constraint example), so 512 MiB fits a ~2^19-constraint circuit, about
 * the largest one core proves within a lease of minutes. Bigger would only fill the disk.
 */
export const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;
/** Default bound of the whole cache; least recently used artifacts are evicted beyond it. */
export const DEFAULT_MAX_CACHE_BYTES = 2 * 1024 * 1024 * 1024;
/** Temporary files older than this are leftovers of a killed download and are removed. */
const STALE_TEMP_MS = 60 * 60_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = ".tmp-";

/** Yields an artifact's bytes; the cache checks size and hash as they arrive. */
export type ArtifactSource = (sha256: string) => AsyncIterable<Uint8Array>;

/** Who the device is, to sign its reads: a private input is sent only to a device leased it. */
export interface ArtifactReader {
  readonly identity: Identity;
  readonly now: () => number;
}

/**
 * The node's content-addressed artifact endpoint, `GET {nodeUrl}/v1/artifacts/{sha256}`. With a
 * reader, each request is a signed read of the device's: the node hands a private artifact to a
 * device only while one of its current leases needs it.
 */
export function httpArtifactSource(nodeUrl: string, reader?: ArtifactReader): ArtifactSource {
  return async function* fetchArtifact(sha256) {
    const url = nodeEndpoint(nodeUrl, `v1/artifacts/${sha256}`);
    // The path as the node's API names it (a base URL's prefix belongs to a proxy, not the node).
    const headers: Record<string, string> =
      reader === undefined
        ? {}
        : {
            authorization: readAuthorization(
              reader.identity,
              `/v1/artifacts/${sha256}`,
              reader.now(),
            ),
          };
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      throw new DpnError(DEVICE_ARTIFACT_FETCH_FAILED, `Cannot fetch artifact ${sha256}.`, {
        hint: "Check that the bank node is reachable; the task will be retried elsewhere.",
        cause: error,
        details: { url: url.href },
      });
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new DpnError(
        DEVICE_ARTIFACT_FETCH_FAILED,
        `The node answered ${response.status} for artifact ${sha256}.`,
        {
          hint: "The job's artifact may have been removed, or the lease that needed it has ended.",
          details: { url: url.href },
        },
      );
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_ARTIFACT_BYTES) {
      await response.body.cancel();
      throw tooLarge(sha256, MAX_ARTIFACT_BYTES);
    }
    yield* response.body;
  };
}

function tooLarge(sha256: string, limit: number): DpnError {
  return new DpnError(DEVICE_ARTIFACT_TOO_LARGE, `Artifact ${sha256} exceeds ${limit} bytes.`, {
    hint: "The job's circuit is too large for this device; raise the limit only for known jobs.",
  });
}

export interface ArtifactCacheOptions {
  /** Directory of the cache; files are named by their SHA-256. May be shared by processes. */
  readonly dir: string;
  readonly source: ArtifactSource;
  readonly maxArtifactBytes?: number;
  readonly maxCacheBytes?: number;
}

/** A cached artifact, protected from eviction until released. */
export interface ArtifactHandle {
  readonly path: string;
  release(): void;
}

async function hashFile(path: string): Promise<string> {
  const hasher = createHash("sha256");
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
  return hasher.digest("hex");
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

/**
 * Content-addressed on-disk cache of job artifacts (wasm, zkey, verification key).
 *
 * - A file is used only after its SHA-256 matched its name, once per process: bytes from the
 *   network are hashed while they are written, bytes already on disk when first used.
 * - Writes go to a unique temporary file renamed into place, so a reader never sees a partial
 *   file and several processes sharing the directory (e.g. the demo's devices) may download the
 *   same artifact at once: the last rename wins with identical bytes. Within a process, one
 *   download per artifact is shared by all who ask.
 * - No fsync: a file torn by a crash fails the hash check on first use and is fetched again.
 */
export class ArtifactCache {
  private readonly dir: string;
  private readonly source: ArtifactSource;
  private readonly maxArtifactBytes: number;
  private readonly maxCacheBytes: number;
  private readonly verified = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly pins = new Map<string, number>();

  constructor(options: ArtifactCacheOptions) {
    this.dir = options.dir;
    this.source = options.source;
    this.maxArtifactBytes = options.maxArtifactBytes ?? MAX_ARTIFACT_BYTES;
    this.maxCacheBytes = options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
    if (!(this.maxArtifactBytes > 0 && this.maxArtifactBytes <= this.maxCacheBytes)) {
      throw new DpnError(
        DEVICE_OPTIONS_INVALID,
        "The artifact cache must be able to hold at least one artifact of the maximum size.",
        { hint: "Set maxCacheBytes ≥ maxArtifactBytes > 0." },
      );
    }
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  /** Returns a verified local copy of the artifact, downloading it if needed. */
  async acquire(sha256: string): Promise<ArtifactHandle> {
    if (!SHA256_HEX.test(sha256)) {
      throw new DpnError(DEVICE_ARTIFACT_HASH_MISMATCH, "An artifact name is not a SHA-256.", {
        hint: "Artifacts are addressed by the 64 lower-case hex digits of their SHA-256.",
        details: { sha256: sha256.slice(0, 80) },
      });
    }
    this.pins.set(sha256, (this.pins.get(sha256) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.pins.get(sha256) ?? 1) - 1;
      if (left === 0) this.pins.delete(sha256);
      else this.pins.set(sha256, left);
    };
    try {
      await this.ensure(sha256);
    } catch (error) {
      release();
      throw error;
    }
    return { path: this.pathOf(sha256), release };
  }

  private async ensure(sha256: string): Promise<void> {
    const path = this.pathOf(sha256);
    if (this.verified.has(sha256)) {
      try {
        // The modification time is the eviction order: touch on use.
        const nowS = Date.now() / 1000;
        await utimes(path, nowS, nowS);
        return;
      } catch (error) {
        if (!isMissing(error)) throw error;
        this.verified.delete(sha256); // evicted by another process sharing the directory
      }
    }
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = this.load(sha256).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    await pending;
  }

  private async load(sha256: string): Promise<void> {
    const path = this.pathOf(sha256);
    try {
      if ((await hashFile(path)) === sha256) {
        this.verified.add(sha256);
        return;
      }
      await unlink(path); // corrupt (torn write, disk error, tampering): fetch it again
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    await mkdir(this.dir, { recursive: true });
    await this.download(sha256);
    this.verified.add(sha256);
    await this.evict();
  }

  private async download(sha256: string): Promise<void> {
    const temp = join(
      this.dir,
      `${TEMP_PREFIX}${sha256.slice(0, 16)}-${process.pid}-${randomBytes(6).toString("hex")}`,
    );
    const file = await open(temp, "wx", 0o644);
    let renamed = false;
    try {
      const hasher = createHash("sha256");
      let bytes = 0;
      for await (const chunk of this.source(sha256)) {
        bytes += chunk.byteLength;
        if (bytes > this.maxArtifactBytes) throw tooLarge(sha256, this.maxArtifactBytes);
        hasher.update(chunk);
        await file.write(chunk);
      }
      await file.close();
      const actual = hasher.digest("hex");
      if (actual !== sha256) {
        throw new DpnError(
          DEVICE_ARTIFACT_HASH_MISMATCH,
          `The node sent artifact ${sha256} with different content (SHA-256 ${actual}).`,
          { hint: "The bytes were corrupted in transit or the node is faulty; nothing was kept." },
        );
      }
      await rename(temp, this.pathOf(sha256));
      renamed = true;
    } finally {
      if (!renamed) {
        await file.close().catch(() => undefined);
        await unlink(temp).catch(() => undefined);
      }
    }
  }

  /** Removes least recently used artifacts beyond maxCacheBytes, never a pinned one. */
  private async evict(): Promise<void> {
    const entries: { name: string; size: number; mtimeMs: number }[] = [];
    for (const name of await readdir(this.dir)) {
      try {
        const info = await stat(join(this.dir, name));
        if (SHA256_HEX.test(name)) {
          entries.push({ name, size: info.size, mtimeMs: info.mtimeMs });
        } else if (name.startsWith(TEMP_PREFIX) && Date.now() - info.mtimeMs > STALE_TEMP_MS) {
          await unlink(join(this.dir, name));
        }
      } catch (error) {
        if (!isMissing(error)) throw error; // removed meanwhile by another process
      }
    }
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const entry of entries) {
      if (total <= this.maxCacheBytes) break;
      if (this.pins.has(entry.name)) continue;
      await unlink(join(this.dir, entry.name)).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      this.verified.delete(entry.name);
      total -= entry.size;
    }
  }
}
