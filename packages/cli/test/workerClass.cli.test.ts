import { mkdtempSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnDpn, until } from "./processes.ts";

/**
 * A plain `dpn worker` (no flags but the node: it declares `pc`) on an ordinary machine reaches
 * the heavy layer (docs/protocol.md §Devices): the challenge measures every core it offers and
 * the memory it commits. Under the old one-core benchmark and its 4 CU/s threshold it never could.
 */
let node: RunningNode;
const dir = mkdtempSync(join(tmpdir(), "dpn-worker-class-"));

beforeAll(async () => {
  node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    // The default threshold is a quarter of a reference core; a fifth of it here, so that a CI
    // machine busy with other test files cannot fall below it. The memory probe is the default.
    params: { "devices.heavyPcMinCuPerSec": 0.05 },
  });
});

afterAll(async () => {
  await node.close();
});

describe("dpn worker's class", () => {
  it("is measured over all the machine's cores and puts a plain PC in the heavy layer", async () => {
    const worker = spawnDpn(["worker", "--node", node.url, "--cache-dir", join(dir, "cache")]);
    try {
      const device = await until("the worker's registration", async () => {
        const response = await fetch(`${node.url}/v1/devices`);
        const { devices } = (await response.json()) as { devices: Array<Record<string, unknown>> };
        return devices[0];
      });
      expect(device).toMatchObject({
        declaredClass: "pc",
        deviceClass: "pc",
        layer: "heavy",
        lanes: Math.min(cpus().length, 256),
        memoryMiB: 64,
      });
      expect(device.classReason).toMatch(/^pc measured [\d.]+ CU\/s over \d+ lanes?: heavy layer/);
    } finally {
      worker.kill("SIGTERM");
    }
  });
});
