import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The main entry must run in a browser (the dashboard's device speaks through it). Bundling it for
 * a browser fails on any node:* import anywhere in its graph; and our own sources in that graph
 * (this package and the others it pulls in) must not touch Node's globals either.
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

describe("the @dpn/wire main entry", () => {
  it("bundles for a browser, and none of our sources in it uses Node's globals", async () => {
    const result = await bundle('export * from "./src/index.ts";');
    const ours = Object.keys(result.metafile.inputs).filter(
      (path) => !path.includes("node_modules/") && path !== "<stdin>",
    );
    expect(ours).toContain("src/envelope.ts");
    expect(ours.filter((path) => NODE_GLOBALS.test(code(path)))).toEqual([]);
  });

  it("is checked for real: a node: import in the graph fails the bundle", async () => {
    await expect(bundle('import "node:fs"; export * from "./src/index.ts";')).rejects.toThrow(
      /node:fs/,
    );
    await expect(bundle('export * from "./src/node.ts";')).rejects.toThrow(/node:fs/);
  });
});
