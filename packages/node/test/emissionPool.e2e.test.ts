import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Ledger, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import { costCu, formatDpn, genesisAllocation, parseDpn } from "@dpn/protocol";
import { DpnClient } from "@dpn/sdk";
import { newIdentity } from "@dpn/wire";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningNode, startNode } from "../src/server.ts";
import { ProtocolDevice } from "./protocolDevice.ts";
import { TEST_STORE, testStore } from "./stores.ts";

/**
 * A node whose emission pool runs dry and fills again (docs/protocol.md §Supply): a test-sized
 * genesis (supplyCap) whose pool holds 2.5 task rewards. A device works until the pool cannot
 * pay a reward; that task is still accepted and paid for, its reward is withheld with a code (in
 * the job view and the device's verdict); the requester's payment is burned, the next epoch
 * recycles the burn into the pool, and minting resumes. The ledger's audit holds after every step.
 *
 * The rate's moving parts are held still so that every amount is known: prices at the anchor
 * (DI = 0), no supply–demand gain (S = 1), one burn rate at every level (80%). A task of 1 000
 * hashes is then 0.002 CU at 12 500 CU/DPN: price = reward = 1.6e-7 DPN, burn 1.28e-7 DPN. The
 * device's owner also submits the jobs: its rewards fund its next jobs, so a small cap suffices.
 */
const ITERATIONS = 1_000;
const CU_PER_DPN = 12_500; // rate.basePriceUsdPerDpn 0.15 / 1.2e-5 USD per CU
const PRICE = parseDpn((costCu({ type: "hash", iterations: ITERATIONS }) / CU_PER_DPN).toFixed(18));
/** 2.5 rewards in the emission pool (its 55% of the cap). */
const CAP = (PRICE * 25n * 10_000n) / (10n * 5_500n);
/** Enough tasks to empty the pool twice over; the test stops once minting has resumed. */
const MAX_TASKS = 20;

const running: RunningNode[] = [];
const devices: ProtocolDevice[] = [];

afterEach(async () => {
  for (const device of devices.splice(0)) device.close();
  for (const node of running.splice(0)) await node.close();
});

/** The supply identity, from the audit's own recomputation of every balance. */
async function audited(ledger: Ledger) {
  const report = await ledger.verify();
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  const s = report.supply;
  expect(s.issued).toBe(s.genesis + s.replenished);
  expect(s.outstanding).toBe(s.issued - s.burned);
  expect(s.outstanding).toBeLessThanOrEqual(s.cap);
  return s;
}

describe(`an emission pool that runs dry and refills (${TEST_STORE})`, () => {
  it("withholds rewards with a code while the pool is short, and mints again once burns refill it", async () => {
    const member = newIdentity();
    const allocation = genesisAllocation(CAP);
    const n = await startNode({
      store: testStore(),
      dataDir: mkdtempSync(join(tmpdir(), "dpn-emission-")),
      logLevel: "silent",
      supplyCap: formatDpn(CAP),
      market: false,
      // Prices held still, so every reward is known in advance.
      priceSource: {
        read: async () => ({ dpnPriceUsd: 0.15, computePriceUsdPerCu: 1.2e-5, source: "test" }),
      },
      params: {
        "rate.supplyDemandGain": 0,
        "burning.excessIncrease": 0,
        "burning.shortageDecrease": 0,
        "burning.balanceFineTune": 0,
        "burning.coldStorageShare": 0,
      },
      grants: { [member.id]: formatDpn(allocation.liquidity) },
      // Every read of the economics closes an epoch; the sweep never runs on its own.
      epochMs: 1,
      sweepMs: 3_600_000,
      challengeIterations: 10_000,
    });
    running.push(n);
    expect((await audited(n.ledger)).emissionPool).toBe(allocation.miningEmission);
    // The other genesis treasuries fund the member too: 45% of the cap in all, two prices.
    const treasuries = [
      SYSTEM_ACCOUNTS.governanceFund,
      SYSTEM_ACCOUNTS.contributors,
      SYSTEM_ACCOUNTS.reservePool,
    ];
    for (const from of treasuries) {
      await n.ledger.transfer({
        idempotencyKey: `fund:${from}`,
        from,
        to: `owner:${member.id}`,
        amount: await n.ledger.balance(from),
      });
    }
    const device = new ProtocolDevice({ url: n.url, owner: member.id, slots: 1 });
    devices.push(device);
    await device.connect();
    const client = new DpnClient({ url: n.url, identity: member });

    const outcomes: Array<"minted" | "withheld"> = [];
    const resumed = () => outcomes.includes("withheld") && outcomes.at(-1) === "minted";
    for (let i = 0; i < MAX_TASKS && !resumed(); i++) {
      const job = await client.submitJob({
        spec: { type: "hash", items: [{ seed: "ab".repeat(32), iterations: ITERATIONS }] },
        budget: formatDpn(PRICE),
        deadlineMs: Date.now() + 600_000,
        clientRef: `task-${i}`,
      });
      const before = await audited(n.ledger);
      const { verdicts } = await device.workOnce();
      expect(verdicts.map((v) => v.accepted)).toEqual([true]);
      const [task] = (await client.job(job.jobId)).fragments;
      if (task === undefined) throw new Error("a one-item job has one task");
      expect(task.state).toBe("done");
      expect(task.price).toBe(formatDpn(PRICE));
      const after = await audited(n.ledger);
      // The requester's payment is burned either way.
      expect(after.burned - before.burned).toBe((PRICE * 8_000n) / 10_000n);
      const mint = await n.ledger.postingByKey(`${task.taskId}:mint`);
      if (task.rewardWithheld === undefined) {
        outcomes.push("minted");
        expect(task.reward).toBe(formatDpn(PRICE));
        expect(verdicts[0]).toEqual({ taskId: task.taskId, accepted: true, reward: task.reward });
        expect(mint?.entries.find((e) => e.account === `owner:${member.id}`)?.amount).toBe(PRICE);
        continue;
      }
      outcomes.push("withheld");
      // Explicit, not silent: the job view says why no reward was minted, and none was.
      expect(task.rewardWithheld).toBe("EMISSION_POOL_EXHAUSTED");
      expect(task.reward).toBe("0");
      expect(mint).toBeUndefined();
      // The device is told too: accepted, nothing minted, and why.
      expect(verdicts[0]).toMatchObject({
        accepted: true,
        reward: "0",
        code: "EMISSION_POOL_EXHAUSTED",
      });
      // The pool held less than the reward (the epoch at this task's settlement had already
      // recycled every earlier burn), and nothing left it since.
      expect(after.emissionPool).toBeLessThan(PRICE);
      expect(after.emissionPool).toBe(
        before.emissionPool + (after.replenished - before.replenished),
      );
      // The next epoch recycles this task's burn into the pool.
      await n.bank.economics();
      const refilled = await audited(n.ledger);
      expect(refilled.replenished).toBe(refilled.burned);
      expect(after.burned - after.replenished).toBeGreaterThan(0n);
      expect(refilled.emissionPool - after.emissionPool).toBe(after.burned - after.replenished);
    }
    // Minted while the pool lasted, withheld once it could not pay, minted again after refills:
    // with 2.5 rewards in the pool and 80% of each payment recycled, the ninth task is the first
    // the pool cannot pay (pool before the n-th task: (2.5 − 0.2·(n − 1)) rewards, paid while ≥ 1)
    // and the tenth is paid from its recycled burn.
    expect(outcomes).toEqual([...Array(8).fill("minted"), "withheld", "minted"]);
  });
});
