import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/**
 * Checks that a package's entry runs in a browser, for the packages the dashboard bundles (wire,
 * sdk). Bundling an entry for a browser fails on any node:* import anywhere in its graph; and our
 * own sources in that graph (the package and the others it pulls in) must not touch Node's
 * globals either.
 */
const NODE_GLOBALS = /\b(Buffer|process|__dirname|__filename|require)\s*[.(]/;

export function browserBundle(packageDir: string) {
  const bundle = (contents: string) =>
    build({
      stdin: { contents, resolveDir: packageDir, loader: "ts" },
      absWorkingDir: packageDir,
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
  /** Source text without comments: a comment may say that Buffer is not used. */
  const code = (path: string): string =>
    readFileSync(join(packageDir, path), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
  return {
    bundle,
    /** Our sources in the bundle of `contents` (paths relative to the package), and which of them use Node's globals. */
    async sources(contents: string): Promise<{ ours: string[]; usingNodeGlobals: string[] }> {
      const result = await bundle(contents);
      const ours = Object.keys(result.metafile.inputs).filter(
        (path) => !path.includes("node_modules/") && path !== "<stdin>",
      );
      return { ours, usingNodeGlobals: ours.filter((path) => NODE_GLOBALS.test(code(path))) };
    },
  };
}
