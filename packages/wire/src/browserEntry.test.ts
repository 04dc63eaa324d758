import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { browserBundle } from "../../../test/browserBundle.ts";

/** The main entry must run in a browser (the dashboard's device speaks through it). */
const { bundle, sources } = browserBundle(fileURLToPath(new URL("..", import.meta.url)));

describe("the @dpn/wire main entry", () => {
  it("bundles for a browser, and none of our sources in it uses Node's globals", async () => {
    const { ours, usingNodeGlobals } = await sources('export * from "./src/index.ts";');
    expect(ours).toContain("src/envelope.ts");
    expect(usingNodeGlobals).toEqual([]);
  });

  it("is checked for real: a node: import in the graph fails the bundle", async () => {
    await expect(bundle('import "node:fs"; export * from "./src/index.ts";')).rejects.toThrow(
      /node:fs/,
    );
    await expect(bundle('export * from "./src/node.ts";')).rejects.toThrow(/node:fs/);
  });
});
