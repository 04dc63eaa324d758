import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { CLOSE_CODES } from "../../src/channel/deviceChannel.ts";
import { MAX_DEVICES_PER_FINGERPRINT } from "../../src/limits.ts";
import { type RunningNode, startNode } from "../../src/server.ts";
import { ProtocolDevice } from "../protocolDevice.ts";

/**
 * The per-hardware cap (docs/protocol.md §Devices): it counts devices connected or registering
 * on a fingerprint, and the count and the admission are one step. Concurrent registrations admit
 * at most the cap; a machine whose worker restarts with a new identity each time can always
 * register again; the owner of a fingerprint's devices can release them, and nobody else can.
 */
const fingerprint = "cd".repeat(32);
const owner = newIdentity();
const running: RunningNode[] = [];
const devices: ProtocolDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.close();
  for (const node of running.splice(0)) await node.close();
});

async function node(): Promise<RunningNode> {
  const started = await startNode({
    store: { kind: "sqlite" },
    dataDir: mkdtempSync(join(tmpdir(), "dpn-fingerprint-")),
    logLevel: process.env.DPN_TEST_LOG ?? "silent",
    sweepMs: 3_600_000,
    // A registration's cost is its challenge: test-sized, as these tests register 60 devices.
    challengeIterations: 10_000,
  });
  running.push(started);
  return started;
}

function onHardware(n: RunningNode, deviceOwner = owner.id): ProtocolDevice {
  const device = new ProtocolDevice({ url: n.url, owner: deviceOwner, fingerprint });
  devices.push(device);
  return device;
}

/** Registers; resolves with the refusal's code if the node refused. */
async function register(device: ProtocolDevice): Promise<"registered" | string> {
  try {
    await device.connect();
    return "registered";
  } catch {
    const error = device.frames.find((f) => f.kind === "node.error");
    return (error?.body as { code: string } | undefined)?.code ?? "closed without a code";
  }
}

async function online(n: RunningNode): Promise<number> {
  const { devices: all } = await new DpnClient({ url: n.url }).devices();
  return all.filter((d) => d.online).length;
}

/** The node sees a close after the client does: wait until it counts `expected` online. */
async function untilOnline(n: RunningNode, expected: number): Promise<void> {
  while ((await online(n)) !== expected) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("the per-hardware cap", () => {
  it("admits exactly the cap of 20 concurrent registrations on one fingerprint", async () => {
    const n = await node();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => register(onHardware(n))));
    expect(outcomes.filter((o) => o === "registered")).toHaveLength(MAX_DEVICES_PER_FINGERPRINT);
    expect(outcomes.filter((o) => o === "DEVICE_TOO_MANY_ON_HARDWARE")).toHaveLength(
      20 - MAX_DEVICES_PER_FINGERPRINT,
    );
    expect(await online(n)).toBe(MAX_DEVICES_PER_FINGERPRINT);
  });

  it("lets a worker that restarts with a new identity each time register every time", async () => {
    const n = await node();
    const restarts = MAX_DEVICES_PER_FINGERPRINT + 2;
    for (let restart = 0; restart < restarts; restart++) {
      const worker = onHardware(n);
      expect(await register(worker)).toBe("registered");
      worker.close();
      await untilOnline(n, 0);
    }
    // More identities than the cap were registered on the fingerprint; none holds a slot now.
    const { devices: all } = await new DpnClient({ url: n.url }).devices();
    expect(all).toHaveLength(restarts);
  });

  it("frees its devices' slots when their owner releases them, and only then", async () => {
    const n = await node();
    const held = Array.from({ length: MAX_DEVICES_PER_FINGERPRINT }, () => onHardware(n));
    for (const device of held) expect(await register(device)).toBe("registered");
    const closed = held.map((device) => device.closed());
    expect(await register(onHardware(n))).toBe("DEVICE_TOO_MANY_ON_HARDWARE");

    // Someone else asks: nothing is released.
    const stranger = new DpnClient({ url: n.url, identity: newIdentity() });
    expect(await stranger.releaseDevices(fingerprint)).toMatchObject({
      released: [],
      connected: MAX_DEVICES_PER_FINGERPRINT,
    });
    expect(await online(n)).toBe(MAX_DEVICES_PER_FINGERPRINT);

    const released = await new DpnClient({ url: n.url, identity: owner }).releaseDevices(
      fingerprint,
    );
    expect([...released.released].sort()).toEqual(held.map((d) => d.identity.id).sort());
    for (const close of await Promise.all(closed)) expect(close.code).toBe(CLOSE_CODES.released);
    await untilOnline(n, 0);
    expect(await register(onHardware(n))).toBe("registered");
  });

  it("refuses a release that is not signed by an identity", async () => {
    const n = await node();
    const response = await fetch(`${n.url}/v1/devices/release`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fingerprint }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("MESSAGE_INVALID");
  });
});
