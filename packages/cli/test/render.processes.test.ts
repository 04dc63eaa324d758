import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import {
  blenderVersion,
  compareImages,
  decodePng,
  EXAMPLE_SCENE,
  RENDER_TOLERANCE,
  renderTile,
} from "@dpn/render";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn, spawnDpn, until } from "./processes.ts";

/**
 * A render job of eight frames through the CLI, rendered by two `dpn worker` processes (a server
 * and a mining rig: rigs may take rendering, §3.2) with Blender for real: `dpn job result --out`
 * writes frames that match a render of the same scene in this one process within the tolerance.
 */
const SIZE = { width: 64, height: 48, samples: 4 } as const;
const requester = newIdentity();
const owner = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-render-processes-"));
const requesterKeys = join(dir, "requester.json");
const workers: ChildProcess[] = [];
let node: RunningNode;

function worker(name: string, deviceClass: string, geohash: string): string {
  const keys = join(dir, `${name}.json`);
  const identity = newIdentity();
  writeKeyFile(keys, identity);
  workers.push(
    spawnDpn([
      "worker",
      ...["--node", node.url, "--keys", keys, "--owner", owner.id],
      ...["--class", deviceClass, "--geohash", geohash, "--slots", "1"],
      ...["--cache-dir", join(dir, `cache-${name}`), "--log-level", "silent"],
    ]),
  );
  return identity.id;
}

/** `dpn <args> --node <this node>`; its output, or a failure naming what it printed. */
async function dpn(args: readonly string[]): Promise<string> {
  const { code, out, err } = await runDpn([...args, "--node", node.url]);
  if (code !== 0) throw new Error(`dpn ${args.join(" ")} exited ${code}: ${err}`);
  return out;
}

beforeAll(async () => {
  if ((await blenderVersion()) === undefined) {
    throw new Error("Blender is not installed (.ci/run installs it)");
  }
  writeKeyFile(requesterKeys, requester);
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: { [requester.id]: "100" },
  });
});

afterAll(async () => {
  for (const w of workers) w.kill("SIGKILL");
  await node?.close();
});

describe("render jobs with device processes", () => {
  it("renders 8 frames on two workers; the frames match a single-process render", async () => {
    const devices = [worker("server", "server", "u33d"), worker("rig", "rig", "dr5r")];
    const client = new DpnClient({ url: node.url, identity: requester });
    await until("two render devices online", async () =>
      (await client.node()).devicesOnline === 2 ? true : undefined,
    );
    const submitted = JSON.parse(
      await dpn([
        ...["job", "submit", "--type", "render", "--scene", EXAMPLE_SCENE, "--frames", "1-8"],
        ...["--size", `${SIZE.width}x${SIZE.height}`, "--samples", String(SIZE.samples)],
        ...["--keys", requesterKeys, "--wait", "--json"],
      ]),
    ) as { jobId: string; state: string };
    expect(submitted.state).toBe("done");
    const job = await client.job(submitted.jobId);
    // Every frame is a fragment of two replicas, one on each device.
    expect(new Set(job.fragments.map((f) => f.deviceId))).toEqual(new Set(devices));

    const out = join(dir, "frames");
    await dpn(["job", "result", submitted.jobId, "--out", out, "--keys", requesterKeys]);
    for (let frame = 1; frame <= 8; frame++) {
      const file = join(out, `frame-${String(frame).padStart(4, "0")}.png`);
      const got = decodePng(readFileSync(file));
      const reference = decodePng(
        await renderTile({
          scenePath: EXAMPLE_SCENE,
          frame,
          tile: { column: 0, row: 0, columns: 1, rows: 1 },
          ...SIZE,
        }),
      );
      const compared = compareImages(got, reference, RENDER_TOLERANCE);
      expect({ frame, agree: compared.agree }).toEqual({ frame, agree: true });
    }
    expect((await client.ledgerVerify()).ok).toBe(true);
  }, 300_000);
});
