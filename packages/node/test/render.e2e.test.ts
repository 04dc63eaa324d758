import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  blenderVersion,
  compareImages,
  decodePng,
  EXAMPLE_SCENE,
  encodePng,
  renderTile,
} from "@dpn/render";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, type RenderItem } from "@dpn/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { testStore } from "./stores.ts";

/**
 * `render` jobs end to end with Blender for real: every tile is rendered by two devices that
 * advertise the same Blender; one of them paints over its tiles, the disagreement places a third
 * replica, the honest pair agrees within the pixel tolerance, the liar is outvoted and unpaid, and
 * the stitched frame matches a whole-frame render of the scene.
 */
const dir = mkdtempSync(join(tmpdir(), "dpn-render-e2e-"));
const SIZE = { width: 64, height: 48, samples: 4 } as const;
let node: RunningNode;
let blender: string;

beforeAll(async () => {
  const version = await blenderVersion();
  if (version === undefined) throw new Error("Blender is not installed (.ci/run installs it)");
  blender = version;
  node = await startNode({
    store: testStore(),
    dataDir: join(dir, "node"),
    logLevel: "silent",
    market: false,
  });
}, 60_000);

afterAll(async () => {
  await node?.close();
});

/** A device that renders its tile with Blender and uploads the PNG; a liar paints over it. */
function renderDevice(owner: string, geohash: string, lie = false): ProtocolDevice {
  const device: ProtocolDevice = new ProtocolDevice({
    url: node.url,
    owner,
    geohash,
    deviceClass: "rig",
    slots: 1,
    taskTypes: ["render"],
    capabilities: { render: { blender } },
    respond: async (lease) => {
      const item = lease.items[0] as RenderItem;
      let png = await renderTile({ scenePath: EXAMPLE_SCENE, ...item, threads: 1 });
      if (lie) {
        const image = decodePng(png);
        const data = new Uint8Array(image.data);
        for (let p = 0; p < data.length / 2; p += 4) data.set([255, 0, 255, 255], p);
        png = encodePng({ ...image, data });
      }
      const image = decodePng(png);
      const uploader = new DpnClient({ url: node.url, identity: device.identity });
      const sha256 = await uploader.uploadArtifact(png);
      return [{ image: sha256, bytes: png.length, width: image.width, height: image.height }];
    },
  });
  return device;
}

describe("render jobs", () => {
  it("outvotes a device returning a wrong tile, pays the agreeing pair and stitches the frame", async () => {
    const requester = newIdentity();
    const owner = newIdentity();
    await node.ledger.openAccount(`owner:${requester.id}`);
    await node.ledger.transfer({
      idempotencyKey: "fund-render",
      from: "system:contributors",
      to: `owner:${requester.id}`,
      amount: 10n ** 20n,
    });
    const client = new DpnClient({ url: node.url, identity: requester });
    const scene = await client.uploadArtifact(readFileSync(EXAMPLE_SCENE));

    const liar = renderDevice(owner.id, "u33d", true);
    const honestA = renderDevice(owner.id, "xn76");
    await liar.connect();
    await honestA.connect();
    const job = await client.submitJob({
      spec: {
        type: "render",
        scene,
        frames: { first: 3, last: 3 },
        ...SIZE,
        tiles: { columns: 2, rows: 1 },
      },
      budget: "10",
      deadlineMs: Date.now() + 120_000,
      clientRef: "render-liar",
    });
    expect(job.fragments).toHaveLength(4); // two tiles, two replicas each

    // Each device renders one replica of each tile; they disagree on both.
    for (let round = 0; round < 2; round++) {
      const [lied, honest] = await Promise.all([liar.workOnce(), honestA.workOnce()]);
      expect(lied.verdicts[0]).toMatchObject({ accepted: true, code: "QUORUM_PENDING" });
      expect(honest.verdicts[0]).toMatchObject({ accepted: true, code: "QUORUM_PENDING" });
    }
    expect((await client.job(job.jobId)).fragments).toHaveLength(6);

    // A third device renders both tiles again; it agrees with the honest replicas.
    const honestB = renderDevice(owner.id, "dr5r");
    await honestB.connect();
    for (let round = 0; round < 2; round++) {
      const third = await honestB.workOnce();
      expect(third.verdicts[0]).toMatchObject({ accepted: true });
      expect(third.verdicts[0]?.code).toBeUndefined();
    }

    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    const byDevice = (id: string) => done.fragments.filter((f) => f.deviceId === id);
    expect(byDevice(liar.identity.id).map((f) => [f.state, f.reward])).toEqual([
      ["outvoted", null],
      ["outvoted", null],
    ]);
    for (const honest of [honestA, honestB]) {
      for (const f of byDevice(honest.identity.id)) {
        expect(f.state).toBe("done");
        expect(Number(f.reward)).toBeGreaterThan(0);
      }
    }

    // The frame, stitched from the accepted tiles, matches a whole-frame render.
    const { result } = (await client.jobResult(job.jobId)) as unknown as {
      result: { blender: string; frames: Array<{ frame: number; image: string | null }> };
    };
    expect(result.blender).toBe(blender);
    expect(result.frames.map((f) => f.frame)).toEqual([3]);
    const image = result.frames[0]?.image;
    expect(image).toMatch(/^[0-9a-f]{64}$/);
    // The frame is the requester's (a grant at stitching), and private.
    expect((await fetch(`${node.url}/v1/artifacts/${image}`)).status).toBe(401);
    const stitched = decodePng(await client.downloadArtifact(image as string));
    const whole = decodePng(
      await renderTile({
        scenePath: EXAMPLE_SCENE,
        frame: 3,
        tile: { column: 0, row: 0, columns: 1, rows: 1 },
        ...SIZE,
      }),
    );
    expect(compareImages(stitched, whole).agree).toBe(true);
    expect((await client.ledgerVerify()).ok).toBe(true);
    for (const d of [liar, honestA, honestB]) d.close();
  }, 180_000);
});
