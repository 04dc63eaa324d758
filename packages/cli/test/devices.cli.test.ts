import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningNode, startNode } from "@dpn/node";
import { newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDpn } from "./processes.ts";

/** `dpn devices` as a user runs it: a real process against a running node. */

let node: RunningNode;
const owner = newIdentity();
const dir = mkdtempSync(join(tmpdir(), "dpn-devices-cli-"));
const keys = join(dir, "identity.json");

beforeAll(async () => {
  node = await startNode({ dataDir: join(dir, "node"), logLevel: "silent" });
  writeKeyFile(keys, owner);
});

afterAll(async () => {
  await node.close();
});

describe("dpn devices", () => {
  it("lists devices, releases the owner's slots on a fingerprint, and refuses a bad one", async () => {
    const common = ["--node", node.url];
    const [list, release, bad] = await Promise.all([
      runDpn(["devices", "list", ...common, "--json"]),
      runDpn(["devices", "release", "--fingerprint", "ab".repeat(32), "--keys", keys, ...common]),
      runDpn(["devices", "release", "--fingerprint", "xyz", "--keys", keys, ...common]),
    ]);
    expect(JSON.parse(list.out)).toEqual({ devices: [] });
    expect(release.code).toBe(0);
    expect(release.out).toMatch(/released 0 device\(s\) of dpn_/);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/CLI_INVALID_OPTION/);
  });
});
