import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ArtifactCache, type Fetch } from "./artifacts.ts";

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A node's artifact store in memory; counts the downloads. */
function store(files: Uint8Array[], served: (bytes: Uint8Array) => Uint8Array = (b) => b) {
  const byName = new Map(files.map((f) => [sha(f), f]));
  const urls: string[] = [];
  const fetchFn: Fetch = async (url) => {
    urls.push(url);
    const bytes = byName.get(url.slice(url.lastIndexOf("/") + 1));
    return bytes === undefined
      ? new Response("not found", { status: 404 })
      : new Response(new Uint8Array(served(bytes)));
  };
  return { fetchFn, urls };
}

describe("ArtifactCache", () => {
  const wasm = new TextEncoder().encode("witness generator");
  const zkey = new TextEncoder().encode("proving key");

  it("downloads an artifact by its hash from the node once, then serves it from memory", async () => {
    const node = store([wasm, zkey]);
    const cache = new ArtifactCache("http://node.test/", node.fetchFn);
    const [a, b] = await Promise.all([cache.get(sha(wasm)), cache.get(sha(wasm))]);
    expect(a).toEqual(wasm);
    expect(b).toBe(a);
    expect(await cache.get(sha(wasm))).toBe(a);
    expect(node.urls).toEqual([`http://node.test/v1/artifacts/${sha(wasm)}`]);
    expect(cache.sizeBytes).toBe(wasm.length);
  });

  it("refuses bytes whose SHA-256 is not the name, and keeps nothing", async () => {
    const node = store([wasm], (bytes) => bytes.map((b) => b ^ 1));
    const cache = new ArtifactCache("http://node.test", node.fetchFn);
    await expect(cache.get(sha(wasm))).rejects.toThrow(
      /arrived with SHA-256 [0-9a-f]{64}; not used/,
    );
    expect(cache.sizeBytes).toBe(0);
  });

  it("refuses names that are not hashes, missing artifacts and oversized ones", async () => {
    const node = store([wasm]);
    const cache = new ArtifactCache("http://node.test", node.fetchFn, 8);
    await expect(cache.get("../../v1/accounts")).rejects.toThrow(/not a SHA-256/);
    expect(node.urls).toEqual([]);
    await expect(cache.get(sha(zkey))).rejects.toThrow(/answered 404/);
    await expect(cache.get(sha(wasm))).rejects.toThrow(/larger than 8 bytes/);
  });

  it("evicts the least recently used artifact beyond its bound", async () => {
    const files = [1, 2, 3].map((n) => new Uint8Array(10).fill(n));
    const node = store(files);
    const cache = new ArtifactCache("http://node.test", node.fetchFn, 10, 25);
    const [one, two, three] = files.map(sha) as [string, string, string];
    await cache.get(one);
    await cache.get(two);
    await cache.get(one); // one is now the most recent
    await cache.get(three); // evicts two
    expect(cache.sizeBytes).toBe(20);
    node.urls.length = 0;
    await cache.get(one);
    expect(node.urls).toEqual([]);
    await cache.get(two);
    expect(node.urls).toHaveLength(1);
  });
});
