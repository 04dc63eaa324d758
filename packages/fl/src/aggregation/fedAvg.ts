import { DpnError } from "@dpn/protocol";
import { FL_INVALID_AGGREGATION, FL_UPDATE_SHAPE_MISMATCH } from "../errors.ts";

/**
 * FedAvg's aggregate (McMahan et al. 2017): the mean of the devices' updates weighted by their
 * example counts, Σ nᵢ·Δᵢ / Σ nᵢ. Sums run in float64.
 */
export function weightedMean(
  updates: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  const d = checkUpdates(updates);
  if (weights.length !== updates.length) {
    throw new DpnError(FL_INVALID_AGGREGATION, "Pass one weight per update.");
  }
  let total = 0;
  for (const w of weights) {
    if (!Number.isFinite(w) || w < 0) {
      throw new DpnError(FL_INVALID_AGGREGATION, `Weights must be finite and >= 0, got ${w}.`);
    }
    total += w;
  }
  if (total <= 0) throw new DpnError(FL_INVALID_AGGREGATION, "The weights sum to zero.");
  const sum = new Float64Array(d);
  updates.forEach((update, u) => {
    const w = (weights[u] as number) / total;
    for (let i = 0; i < d; i++) sum[i] = (sum[i] as number) + w * (update[i] as number);
  });
  return Float32Array.from(sum);
}

/** Checks that there is at least one update and all have one length; returns that length. */
export function checkUpdates(updates: readonly Float32Array[]): number {
  const first = updates[0];
  if (first === undefined) {
    throw new DpnError(FL_INVALID_AGGREGATION, "Nothing to aggregate: no updates.", {
      hint: "A round whose every update was dropped keeps the global model unchanged.",
    });
  }
  for (const update of updates) {
    if (update.length !== first.length) {
      throw new DpnError(
        FL_UPDATE_SHAPE_MISMATCH,
        `Updates of ${first.length} and ${update.length} parameters cannot be aggregated.`,
      );
    }
  }
  return first.length;
}
