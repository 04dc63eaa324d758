import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArtifactCache, type ArtifactSource, httpArtifactSource } from "./artifactCache.ts";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** Serves `content` by hash in small chunks, yielding to the event loop between them. */
function memorySource(content: Map<string, Uint8Array>, fetched: string[]): ArtifactSource {
  return async function* (hash) {
    fetched.push(hash);
    const bytes = content.get(hash);
    if (bytes === undefined) throw new Error(`no artifact ${hash}`);
    for (let offset = 0; offset < bytes.length; offset += 1000) {
      await tick();
      yield bytes.subarray(offset, offset + 1000);
    }
  };
}

describe("ArtifactCache", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dpn-artifacts-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const blob = (seed: number, size = 10_000): Uint8Array =>
    Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff);

  it("stores an artifact under its hash and serves later requests from disk", async () => {
    const bytes = blob(1);
    const fetched: string[] = [];
    const cache = new ArtifactCache({
      dir,
      source: memorySource(new Map([[sha256(bytes), bytes]]), fetched),
    });
    const first = await cache.acquire(sha256(bytes));
    expect(first.path).toBe(join(dir, sha256(bytes)));
    expect(new Uint8Array(await readFile(first.path))).toEqual(bytes);
    first.release();
    const again = await cache.acquire(sha256(bytes));
    again.release();
    // A new process (cache object) re-verifies the file on disk instead of downloading it.
    const other = new ArtifactCache({ dir, source: memorySource(new Map(), fetched) });
    (await other.acquire(sha256(bytes))).release();
    expect(fetched).toEqual([sha256(bytes)]);
  });

  it("rejects content whose hash does not match and keeps nothing", async () => {
    const claimed = sha256(blob(2));
    const cache = new ArtifactCache({
      dir,
      source: memorySource(new Map([[claimed, blob(3)]]), []),
    });
    await expect(cache.acquire(claimed)).rejects.toMatchObject({
      code: "DEVICE_ARTIFACT_HASH_MISMATCH",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses an artifact larger than its limit while downloading", async () => {
    const bytes = blob(4, 5000);
    const cache = new ArtifactCache({
      dir,
      source: memorySource(new Map([[sha256(bytes), bytes]]), []),
      maxArtifactBytes: 4096,
    });
    await expect(cache.acquire(sha256(bytes))).rejects.toMatchObject({
      code: "DEVICE_ARTIFACT_TOO_LARGE",
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("shares one download among concurrent requests for the same artifact", async () => {
    const bytes = blob(5, 50_000);
    const fetched: string[] = [];
    const cache = new ArtifactCache({
      dir,
      source: memorySource(new Map([[sha256(bytes), bytes]]), fetched),
    });
    const handles = await Promise.all(
      Array.from({ length: 8 }, () => cache.acquire(sha256(bytes))),
    );
    expect(new Set(handles.map((h) => h.path)).size).toBe(1);
    expect(fetched).toHaveLength(1);
    expect(sha256(await readFile(join(dir, sha256(bytes))))).toBe(sha256(bytes));
  });

  it("survives processes sharing the directory downloading the same artifact at once", async () => {
    const bytes = blob(6, 50_000);
    const content = new Map([[sha256(bytes), bytes]]);
    const caches = Array.from(
      { length: 4 },
      () => new ArtifactCache({ dir, source: memorySource(content, []) }),
    );
    const handles = await Promise.all(caches.map((cache) => cache.acquire(sha256(bytes))));
    for (const handle of handles) expect(sha256(await readFile(handle.path))).toBe(sha256(bytes));
    expect(await readdir(dir)).toEqual([sha256(bytes)]); // no temporary files left behind
  });

  it("fetches again a file that was corrupted on disk", async () => {
    const bytes = blob(7);
    await writeFile(join(dir, sha256(bytes)), "torn");
    const fetched: string[] = [];
    const cache = new ArtifactCache({
      dir,
      source: memorySource(new Map([[sha256(bytes), bytes]]), fetched),
    });
    const handle = await cache.acquire(sha256(bytes));
    expect(new Uint8Array(await readFile(handle.path))).toEqual(bytes);
    expect(fetched).toHaveLength(1);
  });

  it("evicts the least recently used artifacts beyond its bound, never one in use", async () => {
    const [a, b, c] = [blob(8), blob(9), blob(10)];
    const content = new Map([a, b, c].map((bytes) => [sha256(bytes), bytes] as const));
    const cache = new ArtifactCache({
      dir,
      source: memorySource(content, []),
      maxArtifactBytes: 10_000,
      maxCacheBytes: 20_000,
    });
    const held = await cache.acquire(sha256(a)); // oldest, but in use
    (await cache.acquire(sha256(b))).release();
    (await cache.acquire(sha256(c))).release();
    expect((await readdir(dir)).sort()).toEqual([sha256(a), sha256(c)].sort());
    held.release();
  });

  describe("httpArtifactSource", () => {
    let server: Server;
    let nodeUrl: string;
    const bytes = blob(11, 70_000);
    beforeEach(async () => {
      server = createServer((request, response) => {
        if (request.url === `/prefix/v1/artifacts/${sha256(bytes)}`) {
          response.writeHead(200, { "content-type": "application/octet-stream" });
          response.end(bytes);
        } else {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      nodeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix`;
    });
    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("downloads from the node's artifact endpoint and reports a missing one", async () => {
      const cache = new ArtifactCache({ dir, source: httpArtifactSource(nodeUrl) });
      const handle = await cache.acquire(sha256(bytes));
      expect(new Uint8Array(await readFile(handle.path))).toEqual(bytes);
      await expect(cache.acquire("0".repeat(64))).rejects.toMatchObject({
        code: "DEVICE_ARTIFACT_FETCH_FAILED",
      });
    });
  });
});
