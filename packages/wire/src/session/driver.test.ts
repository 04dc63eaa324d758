import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import type { Lease } from "../channel.ts";
import { bytesToBase64 } from "../encoding.ts";
import { seal } from "../envelope.ts";
import { identityFromSeeds } from "../identity.ts";
import { SessionDriver, type SocketLike, type Timers } from "./driver.ts";
import { createSession, type SessionEvent } from "./machine.ts";

/** The driver over a scripted socket and hand-fired timers: no network, no clock. */
const seed = (label: string): Uint8Array => sha256(utf8ToBytes(label));
const NODE = identityFromSeeds(seed("driver-node/ed"), seed("driver-node/pq"));
const DEVICE = identityFromSeeds(seed("driver-device/ed"), seed("driver-device/pq"));
const T0 = 1_800_000_000_000;

class FakeSocket implements SocketLike {
  readyState = 0;
  readonly sent: { kind: string; body: unknown }[] = [];
  readonly raw: string[] = [];
  closedWith: number | undefined;
  private readonly listeners = new Map<string, ((event: never) => void)[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  emit(type: string, event: unknown = {}): void {
    if (type === "open") this.readyState = 1;
    if (type === "close") this.readyState = 3;
    for (const listener of this.listeners.get(type) ?? []) listener(event as never);
  }

  send(text: string): void {
    this.raw.push(text);
    const envelope = JSON.parse(text) as { kind: string; payload: string };
    this.sent.push({ kind: envelope.kind, body: JSON.parse(envelope.payload) });
  }

  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }

  /** A frame from the node. */
  deliver(kind: string, body: unknown): void {
    this.emit("message", { data: JSON.stringify(seal(NODE, kind, body, { nowMs: T0 })) });
  }
}

class HandTimers implements Timers {
  private next = 0;
  readonly pending = new Map<number, { callback: () => void; delayMs: number }>();
  set(callback: () => void, delayMs: number): unknown {
    this.next += 1;
    this.pending.set(this.next, { callback, delayMs });
    return this.next;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every pending timer of this delay. */
  fire(delayMs: number): void {
    for (const [id, timer] of [...this.pending]) {
      if (timer.delayMs !== delayMs) continue;
      this.pending.delete(id);
      timer.callback();
    }
  }
}

const flushPromises = () => new Promise((resolve) => setTimeout(resolve, 0));

function rig(slots = 1) {
  const sockets: FakeSocket[] = [];
  const timers = new HandTimers();
  const events: SessionEvent[] = [];
  const signals: AbortSignal[] = [];
  let finish: ((outputs: unknown[]) => void) | undefined;
  const session = createSession({
    nodeUrl: "http://node.test",
    identity: DEVICE,
    register: {
      owner: DEVICE.id,
      deviceClass: "pc",
      fingerprint: "ab".repeat(32),
      geohash: "u33d",
      cores: 1,
      memoryMiB: 1024,
      agentVersion: "test",
      taskTypes: ["hash"],
    },
    slots,
    startedAtMs: T0 - 1000,
  });
  const driver = new SessionDriver(session, {
    now: () => T0,
    timers,
    openSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    fetchText: async () =>
      JSON.stringify({
        id: NODE.id,
        ed25519PublicKey: bytesToBase64(NODE.ed25519PublicKey),
        mldsa44PublicKey: bytesToBase64(NODE.mldsa44PublicKey),
      }),
    solveChallenge: async () => ({ digests: ["cd".repeat(32)], elapsedMs: 12 }),
    runTask: (lease: Lease, signal: AbortSignal) => {
      signals.push(signal);
      return new Promise((resolve) => {
        finish = (outputs) => resolve({ taskId: lease.taskId, outputs, elapsedMs: 3 });
      });
    },
    onEvent: (event) => events.push(event),
  });
  return { driver, sockets, timers, events, signals, finish: (o: unknown[]) => finish?.(o) };
}

async function registered(r: ReturnType<typeof rig>): Promise<FakeSocket> {
  r.driver.start();
  await flushPromises();
  const socket = r.sockets[0] as FakeSocket;
  expect(socket.url).toBe("ws://node.test/v1/devices/ws");
  socket.emit("open");
  socket.deliver("node.challenge", {
    challengeId: "c1",
    seed: "11".repeat(32),
    iterations: 10,
    lanes: 1,
    memoryMiB: 0,
  });
  await flushPromises();
  socket.deliver("node.registered", {
    deviceId: DEVICE.id,
    deviceClass: "pc",
    layer: "heavy",
    longTail: false,
    benchmarkCuPerSec: 1,
    reason: "test",
  });
  return socket;
}

describe("SessionDriver", () => {
  it("carries the session from the identity fetch to results over the socket", async () => {
    const r = rig();
    const socket = await registered(r);
    expect(socket.sent.map((f) => f.kind)).toEqual([
      "device.register",
      "device.challenge-answer",
      "device.ready",
    ]);
    expect(socket.sent[1]?.body).toEqual({
      challengeId: "c1",
      digests: ["cd".repeat(32)],
      elapsedMs: 12,
    });
    expect(r.driver.state.link.name).toBe("active");

    socket.deliver("node.leases", {
      leases: [
        {
          taskId: "t1",
          jobId: "j1",
          type: "hash",
          leaseExpiresAtMs: T0 + 60_000,
          artifacts: {},
          items: [{ seed: "22".repeat(32), iterations: 1 }],
        },
      ],
    });
    expect(r.events.map((e) => e.type)).toContain("task-started");
    r.finish([{ digest: "33".repeat(32) }]);
    await flushPromises();
    r.timers.fire(0); // the turn's flush
    expect(socket.sent.slice(3)).toEqual([
      {
        kind: "device.results",
        body: { results: [{ taskId: "t1", outputs: [{ digest: "33".repeat(32) }], elapsedMs: 3 }] },
      },
      { kind: "device.ready", body: { slots: 1 } },
    ]);
  });

  it("stops: aborts the tasks, closes the socket and resolves once it has closed", async () => {
    const r = rig();
    const socket = await registered(r);
    socket.deliver("node.leases", {
      leases: [
        {
          taskId: "t1",
          jobId: "j1",
          type: "hash",
          leaseExpiresAtMs: T0 + 60_000,
          artifacts: {},
          items: [{ seed: "22".repeat(32), iterations: 1 }],
        },
      ],
    });
    let stopped = false;
    const stopping = r.driver.stop().then(() => {
      stopped = true;
    });
    expect(r.signals[0]?.aborted).toBe(true);
    expect(socket.closedWith).toBe(1000);
    await flushPromises();
    expect(stopped).toBe(false);
    socket.emit("close", { code: 1000, reason: "" });
    await stopping;
    expect(r.driver.state.link.name).toBe("stopped");
    expect(r.timers.pending.size).toBe(0);
  });

  it("reconnects after the backoff, ignoring what the old socket still says", async () => {
    const r = rig();
    const first = await registered(r);
    first.emit("close", { code: 1006, reason: "" });
    const closed = r.events.find((e) => e.type === "closed");
    expect(closed).toMatchObject({ code: 1006 });
    const retryInMs = closed?.type === "closed" ? closed.retryInMs : undefined;
    expect(retryInMs).toBeGreaterThanOrEqual(250);
    first.deliver("node.verdicts", { verdicts: [] }); // late: not this session's socket
    expect(r.events.filter((e) => e.type === "frame")).toHaveLength(2);
    r.timers.fire(retryInMs ?? -1);
    await flushPromises();
    expect(r.sockets).toHaveLength(2);
  });

  it("sends a raw frame through the escape hatch, untouched", async () => {
    const r = rig(0);
    expect(r.driver.sendRaw("{}")).toBe(false);
    const socket = await registered(r);
    const forged = JSON.stringify(seal(NODE, "device.ready", { slots: 1 }, { nowMs: T0 }));
    expect(r.driver.sendRaw(forged)).toBe(true);
    expect(socket.raw.at(-1)).toBe(forged);
    // slots: 0 — the session offered no credit of its own.
    expect(socket.sent.map((f) => f.kind)).toEqual([
      "device.register",
      "device.challenge-answer",
      "device.ready",
    ]);
  });
});
