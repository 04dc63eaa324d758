import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { newIdentity, seal } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CLOSE_CODES, DEVICE_CHANNEL_PATH } from "../../src/channel/deviceChannel.ts";
import { ERROR_BURST } from "../../src/limits.ts";
import { type NodeOptions, type RunningNode, startNode } from "../../src/server.ts";
import { ProtocolDevice } from "../protocolDevice.ts";
import { idleLatencyMs, probeDuring, STALL_RATIO_BOUND } from "./probe.ts";

/**
 * Floods of the device channel (docs/protocol.md §Threat model): garbage frames, refused frames,
 * frames faster than the budget, sockets that never register, and too many sockets from one
 * address. Each is cut off after a bounded number of frames or refused before the WebSocket
 * handshake, while an HTTP probe and an honest device keep working. Where a test counts what
 * got through, it sets the budget's refill near zero, so the count does not depend on timing.
 */
const requester = newIdentity();
const owner = newIdentity();
const running: RunningNode[] = [];
const devices: ProtocolDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.close();
  for (const node of running.splice(0)) await node.close();
});

async function node(options: Partial<NodeOptions> = {}): Promise<RunningNode> {
  const started = await startNode({
    store: { kind: "sqlite" },
    dataDir: mkdtempSync(join(tmpdir(), "dpn-flood-")),
    logLevel: process.env.DPN_TEST_LOG ?? "silent",
    grants: { [requester.id]: "100" },
    sweepMs: 3_600_000,
    // The burning controller would put the idle honest device on standby (no leases) at the
    // first epoch: store nothing cold, so the honest round is about the flood alone.
    params: { "burning.coldStorageShare": 0 },
    challengeIterations: 10_000,
    ...options,
  });
  running.push(started);
  return started;
}

async function device(n: RunningNode): Promise<ProtocolDevice> {
  const d = new ProtocolDevice({ url: n.url, owner: owner.id, slots: 1 });
  devices.push(d);
  await d.connect();
  return d;
}

/** An honest device still gets a lease and is paid for it: the flood stalled nobody for good. */
async function honestRoundWorks(n: RunningNode, honest: ProtocolDevice, ref: string) {
  const client = new DpnClient({ url: n.url, identity: requester });
  await client.submitJob({
    spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: 10 }] },
    budget: "1",
    deadlineMs: Date.now() + 600_000,
    clientRef: ref,
  });
  const { verdicts } = await honest.workOnce();
  expect(verdicts.map((v) => v.accepted)).toEqual([true]);
}

/** A well-signed device.register of a fresh identity, as frame text. */
function registerFrame(): string {
  const identity = newIdentity();
  const body = {
    ed25519PublicKey: Buffer.from(identity.ed25519PublicKey).toString("base64"),
    mldsa44PublicKey: Buffer.from(identity.mldsa44PublicKey).toString("base64"),
    owner: owner.id,
    deviceClass: "server",
    fingerprint: "ab".repeat(32),
    geohash: "u33d",
    cores: 2,
    memoryMiB: 4096,
    agentVersion: "test",
    taskTypes: ["hash"],
  };
  return JSON.stringify(seal(identity, "device.register", body, { nowMs: Date.now() }));
}

function rawSocket(url: string): WebSocket {
  return new WebSocket(`${url.replace(/^http/, "ws")}${DEVICE_CHANNEL_PATH}`);
}

function closeOf(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** What a refused upgrade answered: its status and the error body's code. */
function refusalOf(socket: WebSocket): Promise<{ status: number; code: string } | "open"> {
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve("open"));
    socket.once("unexpected-response", (_request, response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          code: (JSON.parse(text) as { code: string }).code,
        }),
      );
    });
    socket.once("error", reject);
  });
}

describe("device channel floods", () => {
  it("closes a registered socket flooding garbage within its error budget, unanswered", async () => {
    const n = await node();
    const honest = await device(n);
    const attacker = await device(n);
    const idleMs = await idleLatencyMs(n.url);
    const { result: closed, stall } = await probeDuring(
      n.url,
      async () => {
        const closed = attacker.closed();
        for (let i = 0; i < 2_000; i++) {
          if (attacker.socket.readyState !== WebSocket.OPEN) break;
          attacker.socket.send(`garbage ${i}`);
        }
        return closed;
      },
      { idleMs },
    );
    expect(closed.code).toBe(CLOSE_CODES.overBudget);
    expect(closed.reason).toMatch(/^DEVICE_FRAME_BUDGET/);
    // Not one signature was spent on the garbage.
    expect(attacker.frames.filter((f) => f.kind === "node.error")).toEqual([]);
    expect(stall.ratio).toBeLessThan(STALL_RATIO_BOUND);
    await honestRoundWorks(n, honest, "after-garbage");
  });

  it("answers at most the error budget of signed refusals, then closes", async () => {
    const n = await node({ channelLimits: { errorsPerSec: 0.001 } });
    const honest = await device(n);
    const attacker = await device(n);
    // Well-signed frames of a kind the node does not take: each is refused with a signed error.
    const frames = Array.from({ length: 3 * ERROR_BURST }, () =>
      JSON.stringify(seal(attacker.identity, "device.bogus", {}, { nowMs: Date.now() })),
    );
    const closed = attacker.closed();
    for (const frame of frames) attacker.socket.send(frame);
    expect((await closed).code).toBe(CLOSE_CODES.overBudget);
    const errors = attacker.frames.filter((f) => f.kind === "node.error");
    expect(errors.length).toBeLessThanOrEqual(ERROR_BURST);
    expect(errors.length).toBeGreaterThan(0);
    await honestRoundWorks(n, honest, "after-refusals");
  });

  it("closes a socket sending valid frames faster than its frame budget", async () => {
    const frameBurst = 40;
    const n = await node({ channelLimits: { frameBurst, framesPerSec: 0.001 } });
    const honest = await device(n);
    const attacker = await device(n);
    const heartbeats = Array.from({ length: 3 * frameBurst }, () =>
      JSON.stringify(
        seal(attacker.identity, "device.heartbeat", { activeTaskIds: [] }, { nowMs: Date.now() }),
      ),
    );
    const closed = attacker.closed();
    for (const frame of heartbeats) attacker.socket.send(frame);
    const { code, reason } = await closed;
    expect(code).toBe(CLOSE_CODES.overBudget);
    expect(reason).toMatch(/faster than allowed/);
    await honestRoundWorks(n, honest, "after-heartbeats");
  });

  it("closes, unanswered, a socket whose first frame is not a signed register", async () => {
    const n = await node();
    const socket = rawSocket(n.url);
    const replies: string[] = [];
    socket.on("message", (data) => replies.push(data.toString()));
    await new Promise((resolve) => socket.once("open", resolve));
    const closed = closeOf(socket);
    socket.send("not an envelope");
    expect(await closed).toEqual({
      code: CLOSE_CODES.unauthenticated,
      reason: "ENVELOPE_MALFORMED",
    });
    expect(replies).toEqual([]);
  });

  it("times out sockets that never register, and ones that never answer the challenge", async () => {
    const n = await node({ channelLimits: { handshakeTimeoutMs: 200 } });
    const silent = rawSocket(n.url);
    const silentClosed = closeOf(silent);
    // A device that registers and then ignores its challenge.
    const stalled = rawSocket(n.url);
    const stalledClosed = closeOf(stalled);
    const challenged = new Promise<string>((resolve) =>
      stalled.once("message", (data) => resolve(JSON.parse(data.toString()).kind)),
    );
    await new Promise((resolve) => stalled.once("open", resolve));
    stalled.send(registerFrame());
    expect(await challenged).toBe("node.challenge");
    const timedOut = { code: CLOSE_CODES.handshakeTimeout, reason: "DEVICE_HANDSHAKE_TIMEOUT" };
    expect(await silentClosed).toEqual(timedOut);
    expect(await stalledClosed).toEqual(timedOut);
  });

  it("refuses sockets beyond an address's caps before the WebSocket handshake", async () => {
    const n = await node({
      channelLimits: { maxSocketsPerAddress: 3, maxHandshakesPerAddress: 2, upgradeBurst: 100 },
    });
    const first = rawSocket(n.url);
    const second = rawSocket(n.url);
    expect(await refusalOf(first)).toBe("open");
    expect(await refusalOf(second)).toBe("open");
    // Two sockets are registering: a third is refused until one registers or closes.
    expect(await refusalOf(rawSocket(n.url))).toEqual({
      status: 429,
      code: "DEVICE_CHANNEL_ADDRESS_LIMIT",
    });
    const firstClosed = closeOf(first);
    first.close();
    await firstClosed;
    await waitUntil(async () => (await refusalOf(rawSocket(n.url))) === "open");
    second.close();
  });

  it("refuses an address opening sockets faster than its upgrade budget", async () => {
    const n = await node({ channelLimits: { upgradeBurst: 3, upgradesPerSec: 0.0001 } });
    const sockets = [rawSocket(n.url), rawSocket(n.url), rawSocket(n.url)];
    for (const socket of sockets) expect(await refusalOf(socket)).toBe("open");
    for (const socket of sockets) socket.close();
    expect(await refusalOf(rawSocket(n.url))).toEqual({
      status: 429,
      code: "DEVICE_CHANNEL_ADDRESS_LIMIT",
    });
  });
});

/** Retries `condition` until it holds (the node sees a close after the client does). */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}
