import {
  advanceRun,
  type DeviceClass,
  isDpnError,
  operatingDays,
  priceDpn,
  reward,
} from "@dpn/protocol";
import { ownerAccount } from "../accounts.ts";
import type { Core } from "../core.ts";
import { afterAccepted } from "../devices/reputation.ts";
import { recordDelivery } from "../devices/sustained.ts";
import * as devices from "../store/devices.ts";
import type { TaskRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";
import { transitionTask } from "../store/transitions.ts";

/**
 * Payment of an accepted result (docs/protocol.md §Rewards and quotes, §Payment split): the
 * requester's hold is captured at the price of the task's CU (at most the hold; the rest returns
 * to the requester) and split (burn / fund / reserve), and the device's owner is minted its
 * reward. The amounts are fixed on the task when it becomes `settling`, and both postings carry
 * keys derived from the task id: a retry after a crash posts the same amounts and never pays
 * twice.
 */

/** The code a task carries when its reward was not minted because the emission pool was short. */
export const EMISSION_POOL_EXHAUSTED = "EMISSION_POOL_EXHAUSTED";

export type Accepted = { readonly paid: bigint; readonly budgetExhausted: boolean };

/**
 * Fixes the price and the reward of a verified task and moves it to settling (from verifying or
 * replicated); false if the task moved on meanwhile.
 */
export async function fixAmounts(
  core: Core,
  task: TaskRow,
  from: "verifying" | "replicated",
  outputJson: string,
): Promise<{ fixed: boolean; budgetExhausted: boolean }> {
  if (task.device_id === null) return { fixed: false, budgetExhausted: false };
  const device = await devices.device(core.store.db, task.device_id);
  if (device === undefined) throw new Error(`task ${task.id} of unknown device ${task.device_id}`);
  const economics = await core.economics();
  const nowMs = core.now();
  const hold = BigInt(task.hold_amount);
  const price = priceDpn(task.cu, economics.rate);
  const run = advanceRun(
    { runStartMs: device.run_start_ms, lastActiveMs: device.last_active_ms },
    nowMs,
    core.params.decay,
  );
  const minted = reward(
    {
      cu: task.cu,
      deviceClass: device.device_class as DeviceClass,
      operatingDays: operatingDays(run, nowMs),
    },
    economics.rate,
    core.params.decay,
  ).amount;
  const fixed = await transitionTask(core.store.db, task.id, from, "settling", {
    output_json: outputJson,
    lease_expires_ms: null,
    price: (price < hold ? price : hold).toString(),
    reward: minted.toString(),
    burn_bps: Number(economics.burning.burnBps),
  });
  return { fixed, budgetExhausted: price > hold };
}

/**
 * Posts the payment of a settling task and marks it done; the reward actually minted. When the
 * emission pool holds less than the reward, verification and the requester's payment go on, no
 * reward is minted and the task says why (`reward_withheld`: EMISSION_POOL_EXHAUSTED, in the job
 * view and the device's verdict). The reward is forfeited, not owed: the pool refills only from
 * burns, once per epoch (economics/supply.ts), and later tasks are paid from it again.
 */
export async function pay(core: Core, taskId: string): Promise<bigint> {
  const task = await tasks.task(core.store.db, taskId);
  if (task === undefined || task.state !== "settling" || task.device_id === null) return 0n;
  const device = await devices.device(core.store.db, task.device_id);
  if (device === undefined)
    throw new Error(`settling task ${taskId} of unknown device ${task.device_id}`);
  const charged = BigInt(task.price ?? "0");
  const minted = BigInt(task.reward ?? "0");
  // Fixed with the amounts; a task settled by an older node has none: the rate in force now.
  const burnBps =
    task.burn_bps === null ? (await core.economics()).burning.burnBps : BigInt(task.burn_bps);
  let paid: bigint;
  try {
    const capture = core.ledger.capturePayment({
      idempotencyKey: `${task.id}:pay`,
      holdId: task.hold_id,
      amount: charged,
      burnBps,
      antiMonopolyFundBps: core.params.payments.antiMonopolyFundBps,
    });
    const mint = minted > 0n ? mintReward(core, task, device.owner, minted) : Promise.resolve(0n);
    [, paid] = await Promise.all([capture, mint]);
  } catch (error) {
    if (!isDpnError(error, "LEDGER_HOLD_EXPIRED")) throw error;
    // The node was down past the hold's life: the result can no longer be paid.
    await transitionTask(core.store.db, task.id, "settling", "failed", { failure: "HOLD_EXPIRED" });
    core.log("warn", "a verified result could not be paid: its hold expired", { taskId });
    return 0n;
  }
  const nowMs = core.now();
  const session = core.scheduler.sessions.get(device.id);
  const reputation = afterAccepted(session?.reputation ?? device.reputation);
  const run = advanceRun(
    { runStartMs: device.run_start_ms, lastActiveMs: device.last_active_ms },
    nowMs,
    core.params.decay,
  );
  if (session !== undefined) {
    session.reputation = reputation;
    session.runStartMs = run.runStartMs;
    session.lastActiveMs = nowMs;
  }
  const reclassified = await core.store.transaction(async (trx) => {
    const done = await transitionTask(trx, task.id, "settling", "done", {
      reward: paid.toString(),
      reward_withheld: paid < minted ? EMISSION_POOL_EXHAUSTED : null,
      done_ms: nowMs,
    });
    if (!done) return undefined;
    await devices.recordOutcome(trx, {
      deviceId: device.id,
      accepted: true,
      reputation,
      rewardUnits: paid,
      cu: task.cu,
      nowMs,
      runStartMs: run.runStartMs,
    });
    return recordDelivery(trx, device.id, task.cu, nowMs, core.params.devices);
  });
  if (reclassified !== undefined) {
    core.log("warn", "device reclassified", { deviceId: device.id, reason: reclassified.reason });
    if (session !== undefined) core.scheduler.reclassify(session, reclassified);
  }
  core.events.emit("job", task.job_id);
  return paid;
}

function mintReward(core: Core, task: TaskRow, owner: string, amount: bigint): Promise<bigint> {
  return core.ledger
    .mint({
      idempotencyKey: `${task.id}:mint`,
      to: ownerAccount(owner),
      amount,
      receiptId: task.id,
    })
    .then(
      () => amount,
      (error: unknown) => {
        if (!isDpnError(error, "LEDGER_MINT_EXCEEDS_POOL")) throw error;
        core.log("warn", "emission pool exhausted; no reward minted", {
          taskId: task.id,
          code: EMISSION_POOL_EXHAUSTED,
        });
        return 0n;
      },
    );
}
