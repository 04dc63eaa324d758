import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { type Identity, newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { hashKind } from "../src/kinds/hash/index.ts";
import type { KindFactory } from "../src/kinds/kind.ts";
import { MAX_LEASE_RENEWALS, MAX_TASK_ATTEMPTS } from "../src/limits.ts";
import { type NodeOptions, type RunningNode, startNode } from "../src/server.ts";
import { iterate, ProtocolDevice } from "./protocolDevice.ts";
import { TEST_STORE, testStore } from "./stores.ts";

/**
 * The kernel's races, each closed by a guarded transition (packages/node/src/store/transitions.ts):
 * a verification that outlasts its lease, a cancellation or a deadline during verification, a
 * restart after them, a frame repeating a task, heartbeats that never end, a task nobody finishes,
 * and a device that reconnects on a new socket. The clock is the node's, moved by the test; the
 * sweep is called by the test, never by a timer.
 */

interface Gate {
  /** Resolves when a verification has started (and is held). */
  readonly started: Promise<void>;
  release(): void;
}

/** The hash kind with its verification held until the test releases it. */
function gatedHash(): { gate: Gate; factory: KindFactory<"hash"> } {
  let release!: () => void;
  let started!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const gate: Gate = {
    started: new Promise<void>((resolve) => {
      started = resolve;
    }),
    release: () => release(),
  };
  const factory: KindFactory<"hash"> = (context) => {
    const real = hashKind(context);
    return {
      ...real,
      async verify(task, outputs, job) {
        started();
        await held;
        return real.verify(task, outputs, job);
      },
    };
  };
  return { gate, factory };
}

function items(n: number, iterations = 10) {
  return Array.from({ length: n }, (_, i) => ({
    seed: (i + 11).toString(16).padStart(64, "0"),
    iterations,
  }));
}

const requester = newIdentity();
const owner = newIdentity();
const running: RunningNode[] = [];

afterEach(async () => {
  for (const node of running.splice(0)) await node.close();
});

describe(`kernel races (${TEST_STORE})`, () => {
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const dataDir = () => mkdtempSync(join(tmpdir(), "dpn-kernel-"));

  async function node(options: Partial<NodeOptions> & { dataDir: string }): Promise<RunningNode> {
    const started = await startNode({
      store: testStore(),
      logLevel: process.env.DPN_TEST_LOG ?? "silent",
      grants: { [requester.id]: "100" },
      leaseMs: 1_000,
      sweepMs: 3_600_000,
      now,
      ...options,
    });
    running.push(started);
    return started;
  }

  /** A node, a requester's client, one registered device and a hash job of `items` items. */
  async function started(
    job: { readonly items: number; readonly clientRef: string; readonly deadlineInMs?: number },
    options: Partial<NodeOptions> = {},
  ) {
    const n = await node({ dataDir: dataDir(), ...options });
    const client = new DpnClient({ url: n.url, identity: requester });
    const device = new ProtocolDevice({ url: n.url, owner: owner.id });
    await device.connect();
    const submitted = await client.submitJob({
      spec: { type: "hash", items: items(job.items) },
      budget: "1",
      deadlineMs: now() + (job.deadlineInMs ?? 60_000),
      clientRef: job.clientRef,
    });
    return { n, client, device, job: submitted };
  }

  async function openHolds(client: DpnClient): Promise<number> {
    const account = (await client.request("GET", `/v1/accounts/${requester.id}`)) as {
      openHolds: number;
    };
    return account.openHolds;
  }

  /** Leases `slots` tasks to the device and sends honest results, without waiting for verdicts. */
  async function leaseAndAnswer(device: ProtocolDevice, slots = 1) {
    device.send("device.ready", { slots });
    const { leases } = (await device.next("node.leases")).body as {
      leases: Array<{ taskId: string; items: Array<{ seed: string; iterations: number }> }>;
    };
    device.send("device.results", {
      results: leases.map((lease) => ({
        taskId: lease.taskId,
        outputs: lease.items.map((item) => ({ digest: iterate(item.seed, item.iterations) })),
        elapsedMs: 1,
      })),
    });
    return leases;
  }

  async function verdicts(device: ProtocolDevice) {
    return (
      (await device.next("node.verdicts")).body as {
        verdicts: Array<{ taskId: string; accepted: boolean; code?: string; reward: string }>;
      }
    ).verdicts;
  }

  it("never pays another device when verification outlasts the lease", async () => {
    offsetMs = 0;
    const { gate, factory } = gatedHash();
    const n = await node({ dataDir: dataDir(), kinds: { hash: factory } });
    const client = new DpnClient({ url: n.url, identity: requester });
    const a = new ProtocolDevice({ url: n.url, owner: owner.id, geohash: "u33d" });
    const otherOwner = newIdentity();
    const b = new ProtocolDevice({ url: n.url, owner: otherOwner.id, geohash: "xn76" });
    await a.connect();
    const job = await client.submitJob({
      spec: { type: "hash", items: items(1) },
      budget: "1",
      deadlineMs: now() + 60_000,
      clientRef: "slow-verify",
    });
    await leaseAndAnswer(a);
    await gate.started;
    await b.connect();
    b.send("device.ready", { slots: 1 });
    offsetMs += 5_000; // the lease (1 s) is long over while the result is verified
    await n.bank.sweep();
    const during = await client.job(job.jobId);
    expect(during.fragments[0]).toMatchObject({
      state: "verifying",
      deviceId: a.identity.id,
      attempts: 1,
    });
    gate.release();
    const [verdict] = await verdicts(a);
    expect(verdict).toMatchObject({ accepted: true });
    const done = await client.waitForJob(job.jobId);
    expect(done.state).toBe("done");
    expect(done.fragments[0]).toMatchObject({ deviceId: a.identity.id, attempts: 1 });
    expect(Number((await client.balance(otherOwner.id)).balance)).toBe(0);
    expect(Number((await client.balance(owner.id)).balance)).toBeGreaterThan(0);
    a.close();
    b.close();
  });

  it("pays a result verified across a cancellation from its own hold and leaves no hold open, also after a restart", async () => {
    offsetMs = 0;
    const { gate, factory } = gatedHash();
    const dir = dataDir();
    const store = testStore();
    const { n, client, device, job } = await started(
      { items: 3, clientRef: "cancel-verify" },
      { dataDir: dir, store, kinds: { hash: factory } },
    );
    await leaseAndAnswer(device, 1);
    await gate.started;
    const cancelled = await client.cancelJob(job.jobId);
    expect(cancelled.state).toBe("cancelled");
    gate.release();
    const [verdict] = await verdicts(device);
    expect(verdict?.accepted).toBe(true);
    await n.bank.idle();
    const view = await client.job(job.jobId);
    expect(view.state).toBe("cancelled");
    expect(view.fragments.filter((f) => f.state === "done")).toHaveLength(1);
    expect(view.fragments.every((f) => f.state === "done" || f.state === "cancelled")).toBe(true);
    expect(await openHolds(client)).toBe(0);
    expect((await client.ledgerVerify()).ok).toBe(true);
    device.close();
    // The node restarts on the same store: nothing to recover, nothing throws.
    await n.close();
    running.splice(running.indexOf(n), 1);
    const again = await node({ dataDir: dir, store });
    const after = new DpnClient({ url: again.url, identity: requester });
    expect((await after.job(job.jobId)).state).toBe("cancelled");
    expect((await after.ledgerVerify()).ok).toBe(true);
  });

  it("pays a result verified across the job's deadline; the expired job holds nothing", async () => {
    offsetMs = 0;
    const { gate, factory } = gatedHash();
    const { n, client, device, job } = await started(
      { items: 2, clientRef: "deadline-verify", deadlineInMs: 3_000 },
      { kinds: { hash: factory } },
    );
    await leaseAndAnswer(device, 1);
    await gate.started;
    offsetMs += 5_000;
    await n.bank.sweep();
    expect((await client.job(job.jobId)).state).toBe("expired");
    gate.release();
    expect((await verdicts(device))[0]?.accepted).toBe(true);
    await n.bank.idle();
    expect(await openHolds(client)).toBe(0);
    expect((await client.ledgerVerify()).ok).toBe(true);
    device.close();
  });

  it("refuses a results frame that repeats a task id, and counts nothing", async () => {
    offsetMs = 0;
    const { client, device } = await started({ items: 1, clientRef: "repeat" });
    device.send("device.ready", { slots: 1 });
    const { leases } = (await device.next("node.leases")).body as {
      leases: Array<{ taskId: string; items: Array<{ seed: string; iterations: number }> }>;
    };
    const lease = leases[0] as (typeof leases)[number];
    const result = {
      taskId: lease.taskId,
      outputs: lease.items.map((item) => ({ digest: iterate(item.seed, item.iterations) })),
      elapsedMs: 1,
    };
    device.send("device.results", { results: Array.from({ length: 100 }, () => result) });
    const error = (await device.next("node.error")).body as { code: string };
    expect(error.code).toBe("MESSAGE_INVALID");
    const devices = (await client.request("GET", "/v1/devices")) as {
      devices: Array<{ deviceId: string; reputation: number; accepted: number }>;
    };
    expect(devices.devices.find((d) => d.deviceId === device.identity.id)).toMatchObject({
      reputation: 0.5,
      accepted: 0,
    });
    // The same result once is taken, and counted once.
    device.send("device.results", { results: [result] });
    expect((await verdicts(device))[0]?.accepted).toBe(true);
    device.close();
  });

  it("bounds a lease's renewals: heartbeats alone cannot hold a task for ever", async () => {
    offsetMs = 0;
    const { n, client, device, job } = await started({
      items: 1,
      clientRef: "renew",
      deadlineInMs: 600_000,
    });
    device.send("device.ready", { slots: 1 });
    const { leases } = (await device.next("node.leases")).body as {
      leases: Array<{ taskId: string }>;
    };
    const taskId = (leases[0] as { taskId: string }).taskId;
    // Renewed every 0.8 s of the node's clock, until the lease ends anyway.
    const startMs = now();
    let heldMs = 0;
    for (let i = 0; i < 2 * (1 + MAX_LEASE_RENEWALS); i++) {
      device.send("device.heartbeat", { activeTaskIds: [taskId] });
      // Frames are handled in order: the refusal of a bogus frame means the heartbeat is in.
      device.send("device.bogus", {});
      await device.next("node.error");
      offsetMs += 800;
      await n.bank.sweep();
      if ((await client.job(job.jobId)).fragments[0]?.state !== "leased") break;
      heldMs = now() - startMs;
    }
    // Held past one lease by the heartbeats, released at the bound (1 + renewals) × leaseMs.
    expect(heldMs).toBeGreaterThan(1_000);
    expect(heldMs).toBeLessThanOrEqual((1 + MAX_LEASE_RENEWALS) * 1_000);
    expect(heldMs).toBeGreaterThan((1 + MAX_LEASE_RENEWALS) * 1_000 - 1_600);
    expect((await client.job(job.jobId)).fragments[0]?.state).toBe("pending");
    device.close();
  });

  it(`fails a task after ${MAX_TASK_ATTEMPTS} leases without a result and releases its hold`, async () => {
    offsetMs = 0;
    const { n, client, device, job } = await started({
      items: 1,
      clientRef: "attempts",
      deadlineInMs: 600_000,
    });
    for (let attempt = 1; attempt <= MAX_TASK_ATTEMPTS; attempt++) {
      device.send("device.ready", { slots: 1 });
      await device.next("node.leases");
      offsetMs += 1_500;
      await n.bank.sweep();
    }
    const failed = await client.waitForJob(job.jobId);
    expect(failed).toMatchObject({ state: "failed", failure: "TASK_ATTEMPTS_EXHAUSTED" });
    expect(failed.fragments[0]).toMatchObject({
      state: "failed",
      attempts: MAX_TASK_ATTEMPTS,
      failure: "TASK_ATTEMPTS_EXHAUSTED",
    });
    expect(await openHolds(client)).toBe(0);
    device.close();
  });

  it("keeps a device that reconnected on a new socket when its old socket closes", async () => {
    offsetMs = 0;
    const n = await node({ dataDir: dataDir() });
    const client = new DpnClient({ url: n.url, identity: requester });
    const identity: Identity = newIdentity();
    const first = new ProtocolDevice({ url: n.url, owner: owner.id, identity });
    await first.connect();
    const second = new ProtocolDevice({ url: n.url, owner: owner.id, identity });
    await second.connect();
    // The node closed the replaced socket; its close must not take the new session with it.
    await new Promise<void>((resolve) => {
      if (first.socket.readyState === WebSocket.CLOSED) resolve();
      else first.socket.once("close", () => resolve());
    });
    await n.bank.idle();
    const devices = (await client.request("GET", "/v1/devices")) as {
      devices: Array<{ deviceId: string; online: boolean }>;
    };
    expect(devices.devices.find((d) => d.deviceId === identity.id)?.online).toBe(true);
    await client.submitJob({
      spec: { type: "hash", items: items(1) },
      budget: "1",
      deadlineMs: now() + 60_000,
      clientRef: "reconnect",
    });
    const { verdicts: got } = await second.workOnce();
    expect(got[0]?.accepted).toBe(true);
    second.close();
  });

  it("closes a socket that stops answering pings", async () => {
    offsetMs = 0;
    const n = await node({ dataDir: dataDir(), pingMs: 50 });
    // A peer that vanished without a close frame: its socket never answers a ping.
    const socket = new WebSocket(`${n.url.replace(/^http/, "ws")}/v1/devices/ws`, {
      autoPong: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    const code = await new Promise<number>((resolve) => socket.once("close", (c) => resolve(c)));
    expect(code).toBe(1006); // terminated by the node, no closing handshake
  });
});
