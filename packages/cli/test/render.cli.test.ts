import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { isDpnError } from "@dpn/protocol";
import { EXAMPLE_SCENE, encodePng } from "@dpn/render";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildSpec,
  type JobSpecOptions,
  precheckSpec,
  writeResultFiles,
} from "../src/jobSpec/index.ts";
import { runDpn } from "./processes.ts";

/** `dpn job submit --type render` and `dpn job result --out` for render jobs. */

let node: RunningNode;
const requester = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-render-cli-"));

beforeAll(async () => {
  node = await startNode({ dataDir: join(dir, "node"), logLevel: "silent" });
});

afterAll(async () => {
  await node.close();
});

describe("dpn job submit --type render", () => {
  it("refuses a missing or wrong scene and bad frames, size or tiles before contacting a node", async () => {
    const notBlend = join(dir, "notes.blend");
    writeFileSync(notBlend, "just text");
    const base = { type: "render", scene: EXAMPLE_SCENE, frames: "1-8" };
    const options: JobSpecOptions[] = [
      { type: "render", frames: "1-8" },
      { ...base, scene: notBlend },
      { ...base, scene: join(dir, "missing.blend") },
      { ...base, frames: "8-1" },
      { ...base, frames: "one" },
      { ...base, size: "4x4" },
      { ...base, tiles: "9x2" },
      { ...base, samples: "0" },
    ];
    for (const option of options) {
      let thrown: unknown;
      try {
        precheckSpec(option);
      } catch (error) {
        thrown = error;
      }
      expect(isDpnError(thrown, "CLI_INVALID_OPTION"), JSON.stringify(option)).toBe(true);
    }
    // As a user sees it: no node runs at this address, the refusal comes first, exit code 1.
    const cli = await runDpn([
      "job",
      "submit",
      "--type",
      "render",
      "--node",
      "http://127.0.0.1:9",
      "--scene",
      notBlend,
      "--frames",
      "1-8",
    ]);
    expect(cli.code).toBe(1);
    expect(cli.err).toContain("CLI_INVALID_OPTION");
  }, 60_000);

  it("uploads the scene and builds the spec the node validates", async () => {
    const client = new DpnClient({ url: node.url, identity: requester });
    const { spec, cu } = await buildSpec(client, {
      type: "render",
      scene: EXAMPLE_SCENE,
      frames: "1-8",
      tiles: "2x2",
      size: "64x48",
      samples: "4",
    });
    const bytes = readFileSync(EXAMPLE_SCENE);
    expect(spec).toEqual({
      type: "render",
      scene: createHash("sha256").update(bytes).digest("hex"),
      frames: { first: 1, last: 8 },
      width: 64,
      height: 48,
      samples: 4,
      tiles: { columns: 2, rows: 2 },
    });
    expect(cu).toBeGreaterThan(0);
    const stored = await client.downloadArtifact((spec as { scene: string }).scene);
    expect(Buffer.from(stored).equals(bytes)).toBe(true);
  });
});

describe("dpn job result --out for a render job", () => {
  it("writes each rendered frame as frame-NNNN.png and names the frames not rendered", async () => {
    const client = new DpnClient({ url: node.url, identity: requester });
    const png = encodePng({ width: 2, height: 2, data: new Uint8Array(16).fill(90) });
    const image = await client.uploadArtifact(png);
    const out = join(dir, "frames");
    const said = await writeResultFiles(
      client,
      "render",
      {
        jobId: "job_render",
        state: "done",
        outputs: [],
        result: {
          blender: "3.4.1",
          frames: [
            { frame: 1, image },
            { frame: 12, image: null },
          ],
        },
      },
      out,
    );
    expect(Buffer.from(readFileSync(join(out, "frame-0001.png"))).equals(Buffer.from(png))).toBe(
      true,
    );
    expect(existsSync(join(out, "frame-0012.png"))).toBe(false);
    expect(said).toContain("not rendered: 12");

    // Before any device has leased a tile the job has no Blender pinned yet: nothing to write.
    const early = await writeResultFiles(
      client,
      "render",
      {
        jobId: "job_render",
        state: "open",
        outputs: [],
        result: { blender: null, frames: [{ frame: 1, image: null }] },
      },
      join(dir, "early"),
    );
    expect(early).toBe(`0 frame(s) written to ${join(dir, "early")}; not rendered: 1`);
  });

  it("says the job has no frames yet when its result is not there", async () => {
    const client = new DpnClient({ url: node.url });
    let thrown: unknown;
    try {
      await writeResultFiles(
        client,
        "render",
        { jobId: "job_r", state: "open", outputs: [] },
        join(dir, "none"),
      );
    } catch (error) {
      thrown = error;
    }
    expect(isDpnError(thrown, "CLI_RESULT_UNAVAILABLE")).toBe(true);
    expect(writeResultFiles(client, "hash", { jobId: "j", state: "done", outputs: [] }, dir)).toBe(
      undefined,
    );
  });

  it("refuses a missing artifact as it refuses a private one, so nobody learns what is stored", async () => {
    const missing = "ab".repeat(32);
    const refusal = (client: DpnClient) =>
      client.downloadArtifact(missing).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isDpnError(await refusal(new DpnClient({ url: node.url })), "READ_UNSIGNED")).toBe(true);
    const signed = new DpnClient({ url: node.url, identity: requester });
    expect(isDpnError(await refusal(signed), "READ_FORBIDDEN")).toBe(true);
  });
});
