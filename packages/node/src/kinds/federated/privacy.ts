import { DpnError } from "@dpn/protocol";
import type { KindContext } from "../kind.ts";
import {
  afterRelease,
  budgetFromJson,
  budgetToJson,
  type FeaturesSpec,
  type FlSpec,
  releaseOf,
  requiredHolding,
} from "./model.ts";
import * as flStore from "./store.ts";

/**
 * The node's side of local DP (docs/protocol.md §Federated learning jobs): it counts what each
 * device has released about each data set it holds, gives DP work only to a device whose
 * lifetime budget still covers it, and charges the budget when the lease is granted (before the
 * device computes anything).
 */
export async function canRelease(
  context: KindContext,
  deviceId: string,
  spec: FlSpec | FeaturesSpec,
): Promise<boolean> {
  const release = releaseOf(spec);
  if (release === undefined) return true;
  const json = await flStore.privacyBudget(context.store.db, deviceId, spec.dataset);
  const budget = budgetFromJson(json, deviceId, spec.dataset, context.params.privacy);
  return afterRelease(budget, release, context.params.privacy) !== undefined;
}

/** Charges one release to the device leasing it. */
export async function chargeRelease(
  context: KindContext,
  deviceId: string,
  spec: FlSpec | FeaturesSpec,
): Promise<void> {
  const release = releaseOf(spec);
  if (release === undefined) return;
  await context.store.transaction(async (trx) => {
    const json = await flStore.privacyBudget(trx, deviceId, spec.dataset);
    const budget = budgetFromJson(json, deviceId, spec.dataset, context.params.privacy);
    const next = afterRelease(budget, release, context.params.privacy);
    if (next !== undefined)
      await flStore.setPrivacyBudget(trx, deviceId, spec.dataset, budgetToJson(next));
  });
}

/** Refuses DP work no online holder could do without exceeding its privacy budget. */
export async function refuseExhaustedHolders(
  context: KindContext,
  spec: FlSpec | FeaturesSpec,
): Promise<void> {
  if (releaseOf(spec) === undefined || (spec.type === "fl-train" && spec.features !== undefined))
    return;
  for (const partition of spec.partitions) {
    const holding = requiredHolding(spec, partition);
    const holders = [...context.online()].filter((s) => s.datasets.includes(holding));
    let any = false;
    for (const holder of holders) if (await canRelease(context, holder.deviceId, spec)) any = true;
    if (holders.length > 0 && !any) {
      throw new DpnError(
        "DP_BUDGET_EXCEEDED",
        `Every device holding ${holding} has spent its privacy budget on ${spec.dataset}.`,
        {
          hint: `Each device may release at most ε = ${context.params.privacy.totalEpsilon} about a data set in its lifetime; use other partitions or a smaller ε per release.`,
          details: { partition, holders: holders.length },
        },
      );
    }
  }
}
