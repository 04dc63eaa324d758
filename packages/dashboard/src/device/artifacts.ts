import { bytesToHex } from "@noble/hashes/utils.js";

/**
 * Circuit artifacts (wasm, zkey) for a tab's Groth16 tasks, fetched from the node's
 * content-addressed store (`GET /v1/artifacts/{sha256}`, as the Node device does) and used only
 * after their SHA-256 matched the name. Kept in memory, least recently used first out: a tab has
 * no disk cache of its own worth trusting, and a second job on the same circuit skips the download.
 */

/**
 * Largest artifact a tab downloads: a zkey grows ~565 bytes per constraint (2.17 MB for the
 * 3,840-constraint example), so 64 MiB fits ~2^17 constraints — about the most one browser core
 * proves within a lease — and stays far below what a tab may allocate.
 */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;
/** Bound of the in-memory cache: the wasm and zkey of a couple of circuits. */
export const MAX_CACHE_BYTES = 128 * 1024 * 1024;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export class ArtifactError extends Error {
  override readonly name = "ArtifactError";
}

export class ArtifactCache {
  /** Insertion order is recency order: a hit is moved to the end. */
  private readonly bytes = new Map<string, Uint8Array>();
  private readonly inFlight = new Map<string, Promise<Uint8Array>>();
  private held = 0;

  constructor(
    private readonly nodeUrl: string,
    private readonly fetchFn: Fetch = (url, init) => fetch(url, init),
    private readonly maxArtifactBytes = MAX_ARTIFACT_BYTES,
    private readonly maxCacheBytes = MAX_CACHE_BYTES,
  ) {}

  /**
   * The artifact's bytes, checked against its SHA-256. Concurrent asks share one download; a
   * download sends `authorization` (the device's signed read) when given.
   */
  async get(sha256: string, authorization?: string): Promise<Uint8Array> {
    if (!SHA256_HEX.test(sha256))
      throw new ArtifactError(`an artifact name is not a SHA-256: ${sha256.slice(0, 80)}`);
    const cached = this.bytes.get(sha256);
    if (cached !== undefined) {
      this.bytes.delete(sha256);
      this.bytes.set(sha256, cached);
      return cached;
    }
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = this.download(sha256, authorization).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    return pending;
  }

  /** Bytes held in the cache now. */
  get sizeBytes(): number {
    return this.held;
  }

  private async download(sha256: string, authorization?: string): Promise<Uint8Array> {
    const url = `${this.nodeUrl.replace(/\/$/, "")}/v1/artifacts/${sha256}`;
    const response = await this.fetchFn(
      url,
      authorization === undefined ? undefined : { headers: { authorization } },
    );
    if (!response.ok) {
      await response.body?.cancel();
      throw new ArtifactError(`the node answered ${response.status} for artifact ${sha256}`);
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > this.maxArtifactBytes) {
      await response.body?.cancel();
      throw new ArtifactError(`artifact ${sha256} is larger than ${this.maxArtifactBytes} bytes`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > this.maxArtifactBytes)
      throw new ArtifactError(`artifact ${sha256} is larger than ${this.maxArtifactBytes} bytes`);
    const actual = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    if (actual !== sha256)
      throw new ArtifactError(`artifact ${sha256} arrived with SHA-256 ${actual}; not used`);
    this.keep(sha256, bytes);
    return bytes;
  }

  private keep(sha256: string, bytes: Uint8Array): void {
    if (bytes.length > this.maxCacheBytes) return;
    for (const [name, old] of this.bytes) {
      if (this.held + bytes.length <= this.maxCacheBytes) break;
      this.bytes.delete(name);
      this.held -= old.length;
    }
    this.bytes.set(sha256, bytes);
    this.held += bytes.length;
  }
}
