import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The SDK runs in a browser (the dashboard reads the node through it). Bundling the entry for a
 * browser fails on any node:* import anywhere in its graph, and none of our own sources in that
 * graph may touch Node's globals either.
 */
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const NODE_GLOBALS = /\b(Buffer|process|__dirname|__filename|require)\s*[.(]/;

function bundle(contents: string) {
  return build({
    stdin: { contents, resolveDir: PACKAGE_DIR, loader: "ts" },
    absWorkingDir: PACKAGE_DIR,
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

/** Source text without comments: a comment may say that Buffer is not used. */
function code(path: string): string {
  return readFileSync(join(PACKAGE_DIR, path), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
}

describe("the @dpn/sdk entry", () => {
  it("bundles for a browser, and none of our sources in it uses Node's globals", async () => {
    const result = await bundle('export * from "./src/index.ts";');
    const ours = Object.keys(result.metafile.inputs).filter(
      (path) => !path.includes("node_modules/") && path !== "<stdin>",
    );
    expect(ours).toContain("src/client.ts");
    expect(ours).toContain("../wire/src/envelope.ts");
    expect(ours.filter((path) => NODE_GLOBALS.test(code(path)))).toEqual([]);
  });

  it("is checked for real: a node: import in the graph fails the bundle", async () => {
    await expect(bundle('import "node:crypto"; export * from "./src/index.ts";')).rejects.toThrow(
      /node:crypto/,
    );
  });
});
