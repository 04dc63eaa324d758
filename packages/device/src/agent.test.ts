import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  exampleInputs,
  expectedPublicSignals,
  loadVerificationKey,
  poseidonChain,
  useSingleThreadedCurve,
} from "@dpn/circuits";
import { seededRng } from "@dpn/protocol";
import { blenderVersion } from "@dpn/render";
import {
  DEVICE_MESSAGES,
  type Envelope,
  type Identity,
  identityFromSeeds,
  identityId,
  laneSeed,
  memoryProbe,
  NODE_MESSAGES,
  open,
  ProofOutput,
  parseEnvelope,
  parseMessage,
  seal,
} from "@dpn/wire";
import type { Groth16Proof } from "snarkjs";
import * as snarkjs from "snarkjs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { type DeviceEvent, type DeviceHandle, startDevice } from "./agent.ts";

// A real node side of the device channel (steps 1–8 of the protocol) on loopback port 0, with a
// real node identity: the agent is tested against the protocol, not against a mock of itself.

const seedOf = (label: string): Uint8Array => createHash("sha256").update(label).digest();
const identityOf = (label: string): Identity =>
  identityFromSeeds(seedOf(`${label}/ed25519`), seedOf(`${label}/mldsa44`));

const NODE = identityOf("test-node");
const blender = await blenderVersion();
const DEVICE = identityOf("test-device");
const OWNER = identityOf("test-owner").id;

function referenceDigest(seedHex: string, iterations: number): string {
  let digest = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

type DeviceKind = keyof typeof DEVICE_MESSAGES;
interface Received {
  readonly kind: DeviceKind;
  readonly body: Record<string, unknown>;
}

/** One device connection as the node sees it: verified messages in arrival order. */
class Connection {
  private readonly queue: Received[] = [];
  private readonly waiters: (() => void)[] = [];
  device: { id: string; ed25519PublicKey: Uint8Array; mldsa44PublicKey: Uint8Array } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const envelope = parseEnvelope(JSON.parse(data.toString()));
      const kind = envelope.kind as DeviceKind;
      if (kind === "device.register") {
        const body = parseMessage(DEVICE_MESSAGES[kind], JSON.parse(envelope.payload), kind);
        const ed25519PublicKey = new Uint8Array(Buffer.from(body.ed25519PublicKey, "base64"));
        const mldsa44PublicKey = new Uint8Array(Buffer.from(body.mldsa44PublicKey, "base64"));
        this.device = {
          id: identityId(ed25519PublicKey, mldsa44PublicKey),
          ed25519PublicKey,
          mldsa44PublicKey,
        };
      }
      if (this.device === undefined) throw new Error("a message before device.register");
      // Every device frame must verify against the registered keys and match its schema.
      const body = parseMessage<unknown>(
        DEVICE_MESSAGES[kind],
        open(envelope, this.device, { nowMs: Date.now() }),
        kind,
      ) as Record<string, unknown>;
      this.queue.push({ kind, body });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The next message of `kind`, skipping heartbeats (collected separately). */
  async next(kind: DeviceKind): Promise<Record<string, unknown>> {
    for (;;) {
      const index = this.queue.findIndex((m) => m.kind === kind);
      if (index >= 0) {
        const [message] = this.queue.splice(index, 1);
        if (message !== undefined) return message.body;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  sendEnvelope(envelope: Envelope): void {
    this.socket.send(JSON.stringify(envelope));
  }

  send(kind: keyof typeof NODE_MESSAGES, body: unknown): void {
    parseMessage<unknown>(NODE_MESSAGES[kind], body, kind);
    this.sendEnvelope(seal(NODE, kind, body, { nowMs: Date.now() }));
  }

  /** Plays registration: challenge, check of the answer, node.registered. Returns the answer. */
  async register(iterations = 20_000): Promise<Record<string, unknown>> {
    await this.next("device.register");
    const seed = createHash("sha256").update(`challenge-${iterations}`).digest("hex");
    this.send("node.challenge", { challengeId: "ch-1", seed, iterations, lanes: 1, memoryMiB: 0 });
    const answer = await this.next("device.challenge-answer");
    expect(answer.digests).toEqual([referenceDigest(laneSeed(seed, 0), iterations)]);
    this.send("node.registered", {
      deviceId: this.device?.id,
      deviceClass: "pc",
      layer: "heavy",
      longTail: false,
      benchmarkCuPerSec: 1.2,
      reason: "pc at 1.2 CU/s",
    });
    return answer;
  }
}

class FakeNode {
  readonly connections: Connection[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly artifacts = new Map<string, Buffer>();
  readonly artifactRequests: string[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  url = "";

  constructor(private readonly identity: Identity = NODE) {
    this.server = createServer((request, response) => {
      if (request.url === "/v1/node") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            id: this.identity.id,
            ed25519PublicKey: Buffer.from(this.identity.ed25519PublicKey).toString("base64"),
            mldsa44PublicKey: Buffer.from(this.identity.mldsa44PublicKey).toString("base64"),
          }),
        );
        return;
      }
      const match = /^\/v1\/artifacts\/([0-9a-f]{64})$/.exec(request.url ?? "");
      const bytes = match?.[1] === undefined ? undefined : this.artifacts.get(match[1]);
      if (match?.[1] !== undefined && bytes !== undefined) {
        this.artifactRequests.push(match[1]);
        response.writeHead(200, { "content-type": "application/octet-stream" });
        response.end(bytes);
        return;
      }
      response.writeHead(404).end();
    });
    this.wss = new WebSocketServer({ server: this.server, path: "/v1/devices/ws" });
    this.wss.on("connection", (socket) => {
      this.connections.push(new Connection(socket));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The `n`th connection (0-based), once it exists. */
  async connection(n: number): Promise<Connection> {
    for (;;) {
      const connection = this.connections[n];
      if (connection !== undefined) return connection;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise((resolve) => this.wss.close(resolve));
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function waitForEvent<T extends DeviceEvent["type"]>(
  device: DeviceHandle,
  type: T,
  predicate: (event: Extract<DeviceEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<DeviceEvent, { type: T }>> {
  return new Promise((resolve) => {
    const unsubscribe = device.onEvent((event) => {
      if (event.type !== type) return;
      const typed = event as Extract<DeviceEvent, { type: T }>;
      if (!predicate(typed)) return;
      unsubscribe();
      resolve(typed);
    });
  });
}

describe("device agent against a node on loopback", () => {
  let node: FakeNode;
  let cacheDir: string;
  let device: DeviceHandle | undefined;

  beforeAll(async () => {
    await useSingleThreadedCurve(); // this thread verifies proofs; no curve threads to clean up
  });
  beforeEach(async () => {
    node = await new FakeNode().listen();
    cacheDir = await mkdtemp(join(tmpdir(), "dpn-device-cache-"));
  });
  afterEach(async () => {
    await device?.stop();
    device = undefined;
    await node.close();
    await rm(cacheDir, { recursive: true, force: true });
  });
  afterAll(() => undefined);

  const start = (overrides: Partial<Parameters<typeof startDevice>[0]> = {}): DeviceHandle => {
    const rng = seededRng("agent-test");
    device = startDevice({
      nodeUrl: node.url,
      identity: DEVICE,
      owner: OWNER,
      deviceClass: "pc",
      geohash: "u33d",
      cacheDir,
      slots: 1,
      random: () => rng.nextFloat(),
      backoff: { initialMs: 20, maxMs: 100, factor: 2 },
      heartbeatMs: 100,
      ...overrides,
    });
    return device;
  };

  it("registers, answers the challenge, runs a hash lease and counts the verdict", async () => {
    const agent = start();
    const connection = await node.connection(0);
    const registration = await connection.next("device.register");
    expect(registration).toMatchObject({
      owner: OWNER,
      deviceClass: "pc",
      geohash: "u33d",
      taskTypes: ["hash", "zk-groth16", "sql-analytics", "fl-train", "fl-features"].concat(
        blender === undefined ? [] : ["render"],
      ),
    });
    // The renderer's version travels with render, so the node pairs replicas of one Blender.
    expect(registration.capabilities).toEqual(
      blender === undefined ? undefined : { render: { blender } },
    );
    expect(connection.device?.id).toBe(DEVICE.id);

    const seed = "7e".repeat(32);
    // Every core it declared, one lane each, and a memory probe (a small one: 2 MiB).
    const lanes = Number(registration.cores);
    connection.send("node.challenge", {
      challengeId: "ch-1",
      seed,
      iterations: 50_000,
      lanes,
      memoryMiB: 2,
    });
    const answer = await connection.next("device.challenge-answer");
    expect(answer).toEqual({
      challengeId: "ch-1",
      digests: Array.from({ length: lanes }, (_, lane) =>
        referenceDigest(laneSeed(seed, lane), 50_000),
      ),
      memoryDigest: memoryProbe(seed, 2),
      elapsedMs: expect.any(Number),
    });
    expect(answer.elapsedMs).toBeGreaterThan(0);

    connection.send("node.registered", {
      deviceId: DEVICE.id,
      deviceClass: "pc",
      layer: "heavy",
      longTail: false,
      benchmarkCuPerSec: 1.2,
      reason: "pc at 1.2 CU/s",
    });
    expect(await connection.next("device.ready")).toEqual({ slots: 1 });
    expect(agent.stats()).toMatchObject({ phase: "ready", deviceId: DEVICE.id, layer: "heavy" });

    const items = [
      { seed: "01".repeat(32), iterations: 1000 },
      { seed: "02".repeat(32), iterations: 3000 },
    ];
    connection.send("node.leases", {
      leases: [
        {
          taskId: "t-1",
          jobId: "j-1",
          type: "hash",
          leaseExpiresAtMs: Date.now() + 60_000,
          artifacts: {},
          items,
        },
      ],
    });
    const heartbeat = await connection.next("device.heartbeat");
    expect(heartbeat.activeTaskIds).toBeInstanceOf(Array);
    const { results } = (await connection.next("device.results")) as {
      results: { taskId: string; outputs: unknown[] }[];
    };
    expect(results).toHaveLength(1);
    expect(results[0]?.taskId).toBe("t-1");
    expect(results[0]?.outputs).toEqual(
      items.map((item) => ({ digest: referenceDigest(item.seed, item.iterations) })),
    );
    // The freed slot is offered again.
    expect(await connection.next("device.ready")).toEqual({ slots: 1 });

    const verdict = waitForEvent(agent, "verdict");
    connection.send("node.verdicts", {
      verdicts: [{ taskId: "t-1", accepted: true, reward: "1.25" }],
    });
    await verdict;
    expect(agent.stats()).toMatchObject({ completed: 1, accepted: 1, earnedDpn: "1.25" });
  });

  it("ignores a frame with a bad signature, a replayed frame and junk, and carries on", async () => {
    const agent = start();
    const connection = await node.connection(0);
    await connection.next("device.register");
    const ignored: DeviceEvent[] = [];
    agent.onEvent((event) => {
      if (event.type === "frame-ignored") ignored.push(event);
    });

    // A challenge whose payload was altered after signing: its signatures no longer verify.
    const genuine = seal(
      NODE,
      "node.challenge",
      { challengeId: "ch-1", seed: "aa".repeat(32), iterations: 1000, lanes: 1, memoryMiB: 0 },
      { nowMs: Date.now() },
    );
    connection.sendEnvelope({ ...genuine, payload: genuine.payload.replace("aa", "bb") });
    // Signed by another identity claiming to be the node.
    const impostor = identityOf("impostor");
    connection.sendEnvelope({
      ...seal(impostor, "node.leases", { leases: [] }, { nowMs: Date.now() }),
      from: NODE.id,
    });
    connection.socket.send("not json");
    await expect.poll(() => ignored.length).toBe(3);
    expect(ignored.map((e) => (e.type === "frame-ignored" ? e.code : ""))).toEqual([
      "ENVELOPE_BAD_SIGNATURE",
      "ENVELOPE_BAD_SIGNATURE",
      "DEVICE_FRAME_INVALID",
    ]);

    // The genuine challenge is answered once; its replay is ignored.
    connection.sendEnvelope(genuine);
    const answer = await connection.next("device.challenge-answer");
    expect(answer.digests).toEqual([referenceDigest(laneSeed("aa".repeat(32), 0), 1000)]);
    connection.sendEnvelope(genuine);
    await expect.poll(() => ignored.length).toBe(4);
    expect(ignored[3]).toMatchObject({ code: "ENVELOPE_REPLAYED" });
    expect(agent.stats()).toMatchObject({ phase: "registering", ignoredFrames: 4 });
  });

  it("fetches circuit artifacts by hash and returns Groth16 proofs that verify", async () => {
    const hashes: Record<string, string> = {};
    for (const name of ["wasm", "zkey", "verificationKey"] as const) {
      const bytes = await readFile(poseidonChain.artifacts[name]);
      const sha = createHash("sha256").update(bytes).digest("hex");
      node.artifacts.set(sha, bytes);
      hashes[name] = sha;
    }
    start();
    const connection = await node.connection(0);
    await connection.register();
    await connection.next("device.ready");
    const inputs = exampleInputs("agent-test", 2).map((input) => ({
      h0: input.h0,
      x: [...input.x],
    }));
    connection.send("node.leases", {
      leases: [
        {
          taskId: "zk-1",
          jobId: "job-zk",
          type: "zk-groth16",
          leaseExpiresAtMs: Date.now() + 120_000,
          artifacts: hashes,
          items: inputs,
        },
      ],
    });
    const { results } = (await connection.next("device.results")) as {
      results: { taskId: string; outputs: unknown[] }[];
    };
    const outputs = results[0]?.outputs ?? [];
    expect(outputs).toHaveLength(2);
    const vkey = await loadVerificationKey();
    for (const [index, raw] of outputs.entries()) {
      const output = ProofOutput.parse(raw);
      const input = exampleInputs("agent-test", 2)[index];
      if (input === undefined) throw new Error("missing input");
      expect(output.publicSignals).toEqual(await expectedPublicSignals(input));
      const proof = output.proof as Groth16Proof; // ProofOutput checked the tuple lengths
      expect(await snarkjs.groth16.verify(vkey, output.publicSignals, proof)).toBe(true);
    }
    // Only what proving needs was downloaded, once each.
    expect(node.artifactRequests.sort()).toEqual([hashes.wasm, hashes.zkey].sort());
  });

  it("runs at most `slots` leases, queues a few beyond and offers only free capacity", async () => {
    const agent = start({ slots: 1 });
    const connection = await node.connection(0);
    await connection.register();
    expect(await connection.next("device.ready")).toEqual({ slots: 1 });
    const lease = (taskId: string) => ({
      taskId,
      jobId: "j",
      type: "hash" as const,
      leaseExpiresAtMs: Date.now() + 60_000,
      artifacts: {},
      items: [{ seed: "03".repeat(32), iterations: 100_000 }],
    });
    const started: string[] = [];
    let mostRunning = 0;
    agent.onEvent((event) => {
      if (event.type !== "task-started") return;
      started.push(event.lease.taskId);
      mostRunning = Math.max(mostRunning, agent.stats().running);
    });
    // More than the one granted slot (a misbehaving node): one runs, one waits, one is dropped.
    connection.send("node.leases", { leases: [lease("a"), lease("b"), lease("c")] });
    const first = (await connection.next("device.results")) as { results: { taskId: string }[] };
    expect(first.results.map((r) => r.taskId)).toEqual(["a"]);
    const second = (await connection.next("device.results")) as { results: { taskId: string }[] };
    expect(second.results.map((r) => r.taskId)).toEqual(["b"]);
    expect(started).toEqual(["a", "b"]); // "c" exceeded slots + queue and was left to expire
    expect(mostRunning).toBe(1);
    // After "a" the queued "b" took the slot, so capacity was offered only once "b" was done.
    expect(await connection.next("device.ready")).toEqual({ slots: 1 });
    expect(agent.stats()).toMatchObject({ running: 0, queued: 0, completed: 2 });
  });

  it("keeps a long task alive by heartbeat, renewing its lease as the node does", async () => {
    const agent = start({ heartbeatMs: 50 });
    const connection = await node.connection(0);
    await connection.register();
    await connection.next("device.ready");
    const finished = waitForEvent(agent, "task-finished");
    connection.send("node.leases", {
      leases: [
        {
          taskId: "long",
          jobId: "j",
          type: "hash",
          // Far shorter than the work: only the renewals by heartbeat let it finish.
          leaseExpiresAtMs: Date.now() + 300,
          artifacts: {},
          items: [{ seed: "05".repeat(32), iterations: 500_000 }],
        },
      ],
    });
    const { result } = await finished;
    expect(result.elapsedMs).toBeGreaterThan(300);
    expect(agent.stats()).toMatchObject({ completed: 1, abandoned: 0 });
  });

  it("abandons a task whose lease expires and offers the slot again", async () => {
    const agent = start({ heartbeatMs: 60_000 }); // no renewal within the test
    const connection = await node.connection(0);
    await connection.register();
    await connection.next("device.ready");
    const abandoned = waitForEvent(agent, "task-abandoned");
    connection.send("node.leases", {
      leases: [
        {
          taskId: "slow",
          jobId: "j",
          type: "hash",
          leaseExpiresAtMs: Date.now() + 150,
          artifacts: {},
          items: [{ seed: "04".repeat(32), iterations: 50_000_000 }],
        },
      ],
    });
    expect(await abandoned).toEqual({ type: "task-abandoned", taskId: "slow" });
    expect(await connection.next("device.ready")).toEqual({ slots: 1 });
    expect(agent.stats()).toMatchObject({ running: 0, abandoned: 1, completed: 0 });
  });

  it("reconnects with backoff after the node drops the connection and registers again", async () => {
    const agent = start();
    const first = await node.connection(0);
    await first.register();
    await first.next("device.ready");
    const disconnected = waitForEvent(agent, "disconnected");
    first.socket.terminate();
    const { retryInMs } = await disconnected;
    expect(retryInMs).toBeGreaterThanOrEqual(10);
    expect(retryInMs).toBeLessThan(20);
    const second = await node.connection(1);
    await second.register();
    expect(await second.next("device.ready")).toEqual({ slots: 1 });
    expect(agent.stats()).toMatchObject({ sessions: 2, phase: "ready" });
  });

  it("refuses a node whose id is not the pinned one", async () => {
    const agent = start({ nodeId: identityOf("another-node").id });
    const logged: string[] = [];
    agent.onEvent((event) => logged.push(event.type));
    await expect
      .poll(() => logged.filter((type) => type === "connecting").length)
      .toBeGreaterThan(1);
    expect(node.connections).toHaveLength(0);
  });

  it("rejects invalid options at once with DEVICE_OPTIONS_INVALID", () => {
    expect(() => start({ geohash: "u33" })).toThrow(
      expect.objectContaining({ code: "DEVICE_OPTIONS_INVALID" }),
    );
    expect(() => start({ owner: "alice" })).toThrow(
      expect.objectContaining({ code: "DEVICE_OPTIONS_INVALID" }),
    );
    expect(() => start({ slots: 0 })).toThrow(
      expect.objectContaining({ code: "DEVICE_OPTIONS_INVALID" }),
    );
    expect(() => start({ nodeUrl: "ftp://node" })).toThrow(
      expect.objectContaining({ code: "DEVICE_OPTIONS_INVALID" }),
    );
  });
});
