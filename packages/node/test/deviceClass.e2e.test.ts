import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_DECAY_PARAMS, decayFactor, MS_PER_DAY } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type NodeOptions, type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { TEST_STORE, testStore } from "./stores.ts";

/**
 * Device classes are measured, not declared (docs/protocol.md §Devices, ADR 0017): the challenge's
 * throughput over every lane decides a class that does not fit its claim, the work a device
 * delivers keeps testing the measurement, and a new key on the same hardware inherits the
 * machine's record (rig finding, decay's run, reputation). Real node, real devices over sockets.
 */
const requester = newIdentity();
const owner = newIdentity();
const running: RunningNode[] = [];
const devices: ProtocolDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.close();
  for (const node of running.splice(0)) await node.close();
});

async function node(params: Record<string, number>, options: Partial<NodeOptions> = {}) {
  const n = await startNode({
    store: testStore(),
    dataDir: mkdtempSync(join(tmpdir(), "dpn-class-")),
    logLevel: "silent",
    grants: { [requester.id]: "1000" },
    challengeIterations: 10_000,
    // A 1 MiB memory probe: registration stays cheap, and the probe is still asked and checked.
    params: { "devices.heavyMinMemoryMiB": 1, "burning.coldStorageShare": 0, ...params },
    ...options,
  });
  running.push(n);
  return n;
}

function device(n: RunningNode, options: Partial<ConstructorParameters<typeof ProtocolDevice>[0]>) {
  const d = new ProtocolDevice({ url: n.url, owner: owner.id, slots: 4, ...options });
  devices.push(d);
  return d;
}

async function deviceRow(n: RunningNode, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${n.url}/v1/devices`);
  const { devices: list } = (await response.json()) as { devices: Array<{ deviceId: string }> };
  const row = list.find((d) => d.deviceId === id);
  if (row === undefined) throw new Error(`device ${id} is not listed`);
  return row;
}

async function hashJob(n: RunningNode, ref: string, items: number, iterations: number) {
  const client = new DpnClient({ url: n.url, identity: requester });
  return client.submitJob({
    spec: {
      type: "hash",
      items: Array.from({ length: items }, (_, i) => ({
        seed: createHash("sha256").update(`${ref}:${i}`).digest("hex"),
        iterations,
      })),
    },
    budget: "100",
    deadlineMs: Date.now() + 600_000,
    clientRef: ref,
  });
}

describe(`measured device classes (${TEST_STORE})`, () => {
  it("pays a process that declares `server` but answers like a farm as a rig", async () => {
    // Test-sized envelopes: no test machine is a farm, so the server envelope is set below what
    // four lanes of this machine deliver, and above what one held-back lane does.
    // Every read of the economics closes an epoch, so the rig share reaches the rate at once.
    const n = await node({ "devices.ceilingCuPerSec.server": 0.05 }, { epochMs: 1 });
    const farm = device(n, { deviceClass: "server", cores: 4 });
    const registered = (await farm.connect()).body as Record<string, unknown>;
    expect(registered).toMatchObject({ deviceClass: "rig", layer: "heavy", longTail: false });
    expect(registered.reason).toMatch(
      /^measured [\d.]+ CU\/s over 4 lanes, above the server envelope of 0.05 CU\/s: classified as a rig$/,
    );
    // One lane that took at least a second: at most 0.02 CU/s, inside the envelope.
    const honest = device(n, { deviceClass: "server", cores: 1, answerDelayMs: 1_000 });
    expect((await honest.connect()).body).toMatchObject({ deviceClass: "server" });
    expect(await deviceRow(n, farm.identity.id)).toMatchObject({
      declaredClass: "server",
      deviceClass: "rig",
      lanes: 4,
      memoryMiB: 1,
      classReason: registered.reason,
    });
    honest.close();
    await honest.closed();

    // Paid as a rig: rigs hold all the capacity online, so the rate's MSF divides its reward
    // (reward / price = decay / MSF, both fixed from one rate when the result was accepted; the
    // decay of a run seconds old is 1 to 5 decimals).
    const { rate } = (await n.bank.economics()) as { rate: { msf: number } };
    expect(rate.msf).toBeGreaterThan(1);
    await hashJob(n, "farm", 1, 250_000);
    const { verdicts } = await farm.workOnce();
    expect(verdicts.map((v) => v.accepted)).toEqual([true]);
    const task = await n.store.db
      .selectFrom("tasks")
      .select(["price", "reward"])
      .executeTakeFirstOrThrow();
    expect(Number(task.reward) / Number(task.price)).toBeCloseTo(1 / rate.msf, 4);
  });

  it("reclassifies a device whose delivered work exceeds what its measurement allows", async () => {
    const n = await node({ "devices.sustainedWindowMs": 10_000, "devices.sustainedTolerance": 4 });
    const fingerprint = "5a".repeat(32);
    // 0.02 CU answered after at least 1 s: at most 0.02 CU/s, so at most 0.8 CU in a window,
    // and one task of 1 CU opens a window already over it.
    const slow = device(n, { deviceClass: "server", cores: 1, answerDelayMs: 1_000, fingerprint });
    expect((await slow.connect()).body).toMatchObject({ deviceClass: "server", layer: "heavy" });
    await hashJob(n, "burst", 2, 250_000); // 1 CU
    const { verdicts } = await slow.workOnce();
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.every((v) => v.accepted)).toBe(true);
    const change = (await slow.next("node.reclassified")).body as Record<string, unknown>;
    expect(change).toMatchObject({ deviceClass: "rig", layer: "heavy" });
    expect(change.reason).toMatch(
      /^delivered [\d.]+ CU within 10 s, more than 4× its measured [\d.]+ CU\/s allows \([\d.]+ CU\): classified as a rig$/,
    );
    expect(await deviceRow(n, slow.identity.id)).toMatchObject({
      deviceClass: "rig",
      classReason: change.reason,
    });

    // A new key on the same hardware, claiming `server` and answering honestly: still a rig.
    slow.close();
    await slow.closed();
    const rekeyed = device(n, { deviceClass: "server", fingerprint });
    const again = (await rekeyed.connect()).body as Record<string, unknown>;
    expect(again.deviceClass).toBe("rig");
    expect(again.reason).toBe(`this machine was classified as a rig before: ${change.reason}`);
  });

  it("keeps a re-keyed rig's decay and reputation", async () => {
    const n = await node({}, { epochMs: 1 });
    const fingerprint = "7c".repeat(32);
    const first = device(n, { deviceClass: "rig", fingerprint });
    await first.connect();
    first.close();
    await first.closed();
    // Its history: a run that started 20 days ago, active an hour ago (the run is still live),
    // and refused results that cost it reputation.
    const now = Date.now();
    await n.store.db
      .updateTable("devices")
      .set({
        run_start_ms: now - 20 * MS_PER_DAY,
        last_active_ms: now - 3_600_000,
        reputation: 0.3,
      })
      .where("id", "=", first.identity.id)
      .execute();
    const before = await deviceRow(n, first.identity.id);
    expect(before.reputation).toBeLessThan(0.5);

    const second = device(n, { deviceClass: "rig", fingerprint });
    await second.connect();
    const after = await deviceRow(n, second.identity.id);
    const [a, b] = await n.store.db
      .selectFrom("devices")
      .select(["id", "run_start_ms", "reputation"])
      .where("id", "in", [first.identity.id, second.identity.id])
      .orderBy("registered_ms")
      .execute();
    expect(b?.run_start_ms).toBe(a?.run_start_ms);
    expect(b?.reputation).toBe(a?.reputation);
    expect(after.operatingDays).toBeGreaterThan(19.9);
    const decay = decayFactor("rig", after.operatingDays as number, DEFAULT_DECAY_PARAMS);
    expect(after.decay).toBeCloseTo(decay, 9);
    expect(decay).toBeLessThan(0.6); // e^(−0.03·20) ≈ 0.55

    // And its pay carries that decay.
    await hashJob(n, "decayed", 1, 250_000);
    const { verdicts } = await second.workOnce();
    expect(verdicts.map((v) => v.accepted)).toEqual([true]);
    const task = await n.store.db
      .selectFrom("tasks")
      .select(["price", "reward"])
      .where("device_id", "=", second.identity.id)
      .executeTakeFirstOrThrow();
    const { rate } = (await n.bank.economics()) as { rate: { msf: number } };
    expect(Number(task.reward) / Number(task.price)).toBeCloseTo(decay / rate.msf, 3);
  });
});
