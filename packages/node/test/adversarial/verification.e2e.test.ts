import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DpnClient } from "@dpn/sdk";
import { MAX_HASH_ITEM_ITERATIONS, newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { hashKind } from "../../src/kinds/hash/index.ts";
import type { KindFactory } from "../../src/kinds/kind.ts";
import { MAX_VERIFY_CU_PER_TASK } from "../../src/limits.ts";
import { type NodeOptions, type RunningNode, startNode } from "../../src/server.ts";
import * as devices from "../../src/store/devices.ts";
import { iterate, ProtocolDevice } from "../protocolDevice.ts";
import { TEST_STORE, testStore } from "../stores.ts";
import { idleLatencyMs, probeDuring, STALL_RATIO_BOUND } from "./probe.ts";
import { SPIN_WORK } from "./spinWork.ts";

/**
 * Verification cannot be amplified (docs/protocol.md §Threat model): a device attacks over a real
 * socket with results that cost it nothing and the node a recomputation. A result is claimed
 * (leased → verifying) before it is verified, so copies are refused unverified; a verification
 * runs within a time budget; one device's results hold one verifier process at most; challenges
 * have a process of their own; and repeated wrong results quarantine the device. Verifications
 * are counted, held or made endless through the `kinds` option; the clock is the node's, moved
 * by the test.
 */

type Verify = Parameters<ReturnType<KindFactory<"hash">>["verify"]>;

interface Counting {
  /** kind.verify calls so far, per device. */
  readonly calls: Map<string, number>;
  /** The most verifications of one device ever running at once. */
  maxInFlightPerDevice: number;
  /** Verifications running now, all devices. */
  inFlight: number;
}

/**
 * The hash kind with every verification counted; `before` runs first (to hold it, or to occupy
 * the verify pool) and may replace the verdict.
 */
function countingHash(
  before?: (
    context: Parameters<KindFactory<"hash">>[0],
    call: number,
    args: Verify,
  ) => Promise<void>,
): { counting: Counting; factory: KindFactory<"hash"> } {
  const counting: Counting = { calls: new Map(), maxInFlightPerDevice: 0, inFlight: 0 };
  const perDevice = new Map<string, number>();
  let call = 0;
  const factory: KindFactory<"hash"> = (context) => {
    const real = hashKind(context);
    return {
      ...real,
      async verify(task, outputs, job) {
        const device = task.device_id ?? "";
        counting.calls.set(device, (counting.calls.get(device) ?? 0) + 1);
        perDevice.set(device, (perDevice.get(device) ?? 0) + 1);
        counting.inFlight += 1;
        counting.maxInFlightPerDevice = Math.max(
          counting.maxInFlightPerDevice,
          perDevice.get(device) ?? 0,
        );
        try {
          await before?.(context, call++, [task, outputs, job]);
          return await real.verify(task, outputs, job);
        } finally {
          counting.inFlight -= 1;
          perDevice.set(device, (perDevice.get(device) ?? 1) - 1);
        }
      },
    };
  };
  return { counting, factory };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function items(n: number, iterations = 10, salt = 11) {
  return Array.from({ length: n }, (_, i) => ({
    seed: (i + salt).toString(16).padStart(64, "0"),
    iterations,
  }));
}

type Lease = { taskId: string; items: Array<{ seed: string; iterations: number }> };
type VerdictBody = { taskId: string; accepted: boolean; code?: string; reward: string };

const WRONG = "0".repeat(64);
const requester = newIdentity();
const owner = newIdentity();
const running: RunningNode[] = [];

afterEach(async () => {
  for (const node of running.splice(0)) await node.close();
});

describe(`verification cannot be amplified (${TEST_STORE})`, () => {
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;

  async function node(options: Partial<NodeOptions> = {}): Promise<RunningNode> {
    const started = await startNode({
      dataDir: mkdtempSync(join(tmpdir(), "dpn-verify-")),
      store: testStore(),
      logLevel: process.env.DPN_TEST_LOG ?? "silent",
      grants: { [requester.id]: "100" },
      leaseMs: 60_000,
      sweepMs: 3_600_000,
      now,
      ...options,
    });
    running.push(started);
    return started;
  }

  async function submit(client: DpnClient, clientRef: string, n = 1, iterations = 10) {
    return client.submitJob({
      spec: { type: "hash", items: items(n, iterations, clientRef.length * 97 + n) },
      budget: "1",
      deadlineMs: now() + 120_000,
      clientRef,
    });
  }

  async function lease(device: ProtocolDevice, slots: number): Promise<Lease[]> {
    device.send("device.ready", { slots });
    const leases: Lease[] = [];
    while (leases.length < slots) {
      leases.push(...((await device.next("node.leases")).body as { leases: Lease[] }).leases);
    }
    return leases;
  }

  function answer(lease: Lease, honest: boolean) {
    return {
      taskId: lease.taskId,
      outputs: lease.items.map((item) => ({
        digest: honest ? iterate(item.seed, item.iterations) : WRONG,
      })),
      elapsedMs: 1,
    };
  }

  async function verdicts(device: ProtocolDevice, n = 1): Promise<VerdictBody[]> {
    const out: VerdictBody[] = [];
    while (out.length < n) {
      out.push(
        ...((await device.next("node.verdicts")).body as { verdicts: VerdictBody[] }).verdicts,
      );
    }
    return out;
  }

  it("verifies a wrong result once: copies in its frame are refused whole, later frames unverified", async () => {
    offsetMs = 0;
    const { counting, factory } = countingHash();
    const n = await node({ kinds: { hash: factory } });
    const client = new DpnClient({ url: n.url, identity: requester });
    const attacker = new ProtocolDevice({ url: n.url, owner: owner.id });
    await attacker.connect();
    await submit(client, "copies", 1, 100_000);
    const [held] = await lease(attacker, 1);
    const wrong = answer(held as Lease, false);
    const idleMs = await idleLatencyMs(n.url);
    const { stall } = await probeDuring(
      n.url,
      async () => {
        // The attack of the issue: one frame, fifteen copies of a wrong digest.
        attacker.send("device.results", { results: Array.from({ length: 15 }, () => wrong) });
        expect(((await attacker.next("node.error")).body as { code: string }).code).toBe(
          "MESSAGE_INVALID",
        );
        expect(counting.calls.get(attacker.identity.id) ?? 0).toBe(0);
        // Once: verified and refused. Then the same result in ten more frames: refused unverified.
        attacker.send("device.results", { results: [wrong] });
        const [first] = await verdicts(attacker);
        expect(first).toMatchObject({ accepted: false, code: "RESULT_WRONG" });
        for (let i = 0; i < 10; i++) attacker.send("device.results", { results: [wrong] });
        return verdicts(attacker, 10);
      },
      { idleMs },
    );
    expect(stall.ratio).toBeLessThan(STALL_RATIO_BOUND);
    expect(counting.calls.get(attacker.identity.id)).toBe(1);
    attacker.close();
  });

  it("stops a verification past its budget with VERIFY_TIMEOUT, and the verifier works on", async () => {
    offsetMs = 0;
    // The first verification never ends on its own: it spins in its verifier process.
    const { counting, factory } = countingHash(async (context, call) => {
      if (call === 0) await context.verifyPool.run(SPIN_WORK, {});
    });
    const n = await node({ kinds: { hash: factory }, verifyBudgetMs: 2_000 });
    const client = new DpnClient({ url: n.url, identity: requester });
    const device = new ProtocolDevice({ url: n.url, owner: owner.id });
    await device.connect();
    const job = await submit(client, "budget");
    const [first] = await lease(device, 1);
    device.send("device.results", { results: [answer(first as Lease, true)] });
    expect((await verdicts(device))[0]).toMatchObject({ accepted: false, code: "VERIFY_TIMEOUT" });
    // The task is offered again (to the same device: a slow verifier is not its fault) and its
    // next result is verified by the replaced process and paid.
    const [second] = await lease(device, 1);
    expect(second?.taskId).toBe(first?.taskId);
    device.send("device.results", { results: [answer(second as Lease, true)] });
    expect((await verdicts(device))[0]).toMatchObject({ accepted: true });
    expect((await client.waitForJob(job.jobId)).state).toBe("done");
    expect(counting.calls.get(device.identity.id)).toBe(2);
    const row = await devices.device(n.store.db, device.identity.id);
    expect(row).toMatchObject({ rejected: 0, strikes: 0 });
    device.close();
  });

  it("verifies one device's results one at a time while another device's are verified", async () => {
    offsetMs = 0;
    const hold = deferred();
    const started = deferred();
    const { counting, factory } = countingHash(async (_context, call) => {
      if (call === 0) started.resolve();
      await hold.promise;
    });
    const n = await node({ kinds: { hash: factory }, verifyThreads: 2 });
    const client = new DpnClient({ url: n.url, identity: requester });
    const flooder = new ProtocolDevice({ url: n.url, owner: owner.id, geohash: "u33d" });
    await flooder.connect();
    for (let i = 0; i < 4; i++) await submit(client, `flood-${i}`);
    const leases = await lease(flooder, 4);
    flooder.send("device.results", { results: leases.map((l) => answer(l, false)) });
    await started.promise;
    // Another device's result is verified while the flooder's first one is held.
    const other = new ProtocolDevice({ url: n.url, owner: newIdentity().id, geohash: "xn76" });
    await other.connect();
    await submit(client, "other");
    const [mine] = await lease(other, 1);
    other.send("device.results", { results: [answer(mine as Lease, true)] });
    while (counting.calls.get(other.identity.id) !== 1) await new Promise((r) => setImmediate(r));
    expect(counting.inFlight).toBe(2);
    expect(counting.calls.get(flooder.identity.id)).toBe(1);
    hold.resolve();
    expect((await verdicts(other))[0]).toMatchObject({ accepted: true });
    const refused = await verdicts(flooder, 4);
    expect(refused.every((v) => v.code === "RESULT_WRONG")).toBe(true);
    expect(counting.calls.get(flooder.identity.id)).toBe(4);
    expect(counting.maxInFlightPerDevice).toBe(1);
    flooder.close();
    other.close();
  });

  it("registers a device while results occupy every result verifier process", async () => {
    offsetMs = 0;
    const releaseFile = join(mkdtempSync(join(tmpdir(), "dpn-spin-")), "release");
    const started = deferred();
    const { factory } = countingHash(async (context) => {
      started.resolve();
      await context.verifyPool.run(SPIN_WORK, { releaseFile });
    });
    const n = await node({ kinds: { hash: factory }, verifyBudgetMs: 600_000 });
    const client = new DpnClient({ url: n.url, identity: requester });
    const attacker = new ProtocolDevice({ url: n.url, owner: owner.id });
    await attacker.connect();
    await submit(client, "occupy");
    const [held] = await lease(attacker, 1);
    attacker.send("device.results", { results: [answer(held as Lease, true)] });
    await started.promise;
    // The only result process spins; the newcomer's challenge is recomputed all the same.
    const newcomer = new ProtocolDevice({ url: n.url, owner: newIdentity().id, geohash: "xn76" });
    const idleMs = await idleLatencyMs(n.url);
    const { result: registered, stall } = await probeDuring(n.url, () => newcomer.connect(), {
      idleMs,
    });
    expect((registered.body as { deviceId: string }).deviceId).toBe(newcomer.identity.id);
    expect(stall.ratio).toBeLessThan(STALL_RATIO_BOUND);
    writeFileSync(releaseFile, "");
    expect((await verdicts(attacker))[0]).toMatchObject({ accepted: true });
    attacker.close();
    newcomer.close();
  });

  it("quarantines a device after repeated wrong results, longer each time, across reconnects and identities", async () => {
    offsetMs = 0;
    const { counting, factory } = countingHash();
    const n = await node({
      kinds: { hash: factory },
      params: { "quarantine.strikes": 2, "quarantine.baseMs": 20_000 },
    });
    const client = new DpnClient({ url: n.url, identity: requester });
    const cheat = new ProtocolDevice({ url: n.url, owner: owner.id });
    await cheat.connect();
    const strike = async (ref: string) => {
      await submit(client, ref);
      const [held] = await lease(cheat, 1);
      cheat.send("device.results", { results: [answer(held as Lease, false)] });
      expect((await verdicts(cheat))[0]).toMatchObject({ code: "RESULT_WRONG" });
    };
    await strike("cheat-1");
    await strike("cheat-2");
    // Quarantined: no leases, device.ready refused, also on a new connection.
    cheat.send("device.ready", { slots: 1 });
    expect(((await cheat.next("node.error")).body as { code: string }).code).toBe(
      "DEVICE_QUARANTINED",
    );
    cheat.close();
    const again = new ProtocolDevice({ url: n.url, owner: owner.id, identity: cheat.identity });
    await again.connect();
    again.send("device.ready", { slots: 1 });
    expect(((await again.next("node.error")).body as { code: string }).code).toBe(
      "DEVICE_QUARANTINED",
    );
    // A fresh identity reporting the same hardware fingerprint inherits the quarantine.
    const fresh = new ProtocolDevice({
      url: n.url,
      owner: owner.id,
      fingerprint: createHash("sha256").update(cheat.identity.id).digest("hex"),
    });
    await fresh.connect();
    fresh.send("device.ready", { slots: 1 });
    expect(((await fresh.next("node.error")).body as { code: string }).code).toBe(
      "DEVICE_QUARANTINED",
    );
    fresh.close();
    // Its work, the two tasks it answered wrongly and a new one, goes to an honest device.
    const honest = new ProtocolDevice({ url: n.url, owner: newIdentity().id, geohash: "xn76" });
    await honest.connect();
    const third = await submit(client, "meanwhile");
    const taken = await lease(honest, 3);
    honest.send("device.results", { results: taken.map((l) => answer(l, true)) });
    expect((await verdicts(honest, 3)).every((v) => v.accepted)).toBe(true);
    expect((await client.waitForJob(third.jobId)).state).toBe("done");
    const first = await devices.device(n.store.db, cheat.identity.id);
    expect(first).toMatchObject({ quarantines: 1 });
    const firstMs = (first?.quarantined_until_ms ?? 0) - now();
    expect(firstMs).toBeGreaterThan(0);
    expect(firstMs).toBeLessThanOrEqual(20_000);
    // After it, the device works again; two more wrong results quarantine it twice as long.
    offsetMs += 20_001; // within the envelopes' clock-skew allowance
    honest.close();
    const strikeAgain = async (ref: string) => {
      await submit(client, ref);
      const [held] = await lease(again, 1);
      again.send("device.results", { results: [answer(held as Lease, false)] });
      expect((await verdicts(again))[0]).toMatchObject({ code: "RESULT_WRONG" });
    };
    await strikeAgain("cheat-3");
    const struckAtMs = now();
    await strikeAgain("cheat-4");
    const second = await devices.device(n.store.db, cheat.identity.id);
    expect(second).toMatchObject({ quarantines: 2 });
    expect((second?.quarantined_until_ms ?? 0) - struckAtMs).toBeGreaterThanOrEqual(40_000);
    again.send("device.ready", { slots: 1 });
    expect(((await again.next("node.error")).body as { code: string }).code).toBe(
      "DEVICE_QUARANTINED",
    );
    expect(counting.calls.get(cheat.identity.id)).toBe(4);
    again.close();
  });

  it("refuses at submission an item costlier to verify than one task may be, and splits the rest", async () => {
    offsetMs = 0;
    const n = await node();
    const client = new DpnClient({ url: n.url, identity: requester });
    const perCu = 500_000; // DEFAULT_COST_MODEL.hashesPerCu
    const tooBig = client.submitJob({
      spec: { type: "hash", items: items(1, (MAX_VERIFY_CU_PER_TASK + 1) * perCu) },
      budget: "1",
      deadlineMs: now() + 60_000,
      clientRef: "too-big",
    });
    // The schema's bound is the same limit, so the refusal names the field before any work.
    expect(MAX_HASH_ITEM_ITERATIONS).toBe(MAX_VERIFY_CU_PER_TASK * perCu);
    await expect(tooBig).rejects.toMatchObject({
      code: "MESSAGE_INVALID",
      details: { path: "spec.items.0.iterations" },
    });
    // Three items that each fill a task's verification: three tasks, though one device is online.
    const device = new ProtocolDevice({ url: n.url, owner: owner.id });
    await device.connect();
    const job = await client.submitJob({
      spec: { type: "hash", items: items(3, MAX_VERIFY_CU_PER_TASK * perCu) },
      budget: "10",
      deadlineMs: now() + 60_000,
      clientRef: "split",
    });
    expect(job.fragments).toHaveLength(3);
    device.close();
  });
});
