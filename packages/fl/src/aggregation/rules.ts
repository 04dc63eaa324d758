import { DpnError } from "@dpn/protocol";
import { FL_INVALID_AGGREGATION } from "../errors.ts";
import { weightedMean } from "./fedAvg.ts";
import { coordinateMedian, trimmedMean } from "./robust.ts";

/** How a synchronous round combines its updates. */
export type AggregationRule =
  | { readonly kind: "mean" }
  | { readonly kind: "median" }
  | { readonly kind: "trimmedMean"; readonly trimFraction: number };

export interface Contribution {
  readonly update: Float32Array;
  /** Examples behind the update: the mean's weight (robust rules ignore it). */
  readonly samples: number;
}

export function aggregateUpdates(
  rule: AggregationRule,
  contributions: readonly Contribution[],
): Float32Array {
  const updates = contributions.map((c) => c.update);
  switch (rule.kind) {
    case "mean":
      return weightedMean(
        updates,
        contributions.map((c) => c.samples),
      );
    case "median":
      return coordinateMedian(updates);
    case "trimmedMean":
      return trimmedMean(updates, rule.trimFraction);
    default:
      throw new DpnError(
        FL_INVALID_AGGREGATION,
        `Unknown aggregation rule "${String((rule as { kind: unknown }).kind)}".`,
        { hint: 'Use "mean", "median" or "trimmedMean".' },
      );
  }
}
