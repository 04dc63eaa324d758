import {
  DEFAULT_PRIVACY_PARAMS,
  DpnError,
  laplaceMechanism,
  laplaceScale,
  type PrivacyBudget,
  type PrivacyParams,
  type Rng,
  spendPrivacyBudget,
} from "@dpn/protocol";
import { type CanonicalValue, toNumber } from "./canonical.ts";
import { ANALYTICS_NOISE_UNSUPPORTED } from "./errors.ts";
import {
  type AggregateFields,
  type Partial,
  type PartialAggregate,
  queryDigest,
} from "./partial.ts";
import { outputName, type QuerySpec } from "./querySpec.ts";
import { toQuerySpec } from "./sqlQuery.ts";

/**
 * Optional Laplace noise on a released result (DESIGN: "optional Laplace noise on light-node
 * aggregates"; §3.5), using @dpn/protocol's mechanism and privacy budget. Sensitivities come from
 * the query, under add/remove-one-row neighbours:
 *
 *   count          Δ = 1
 *   sum(col)       Δ = max(|min|, |max|) of the spec's clamp bound on col (required: without a
 *                  bound one row can move a sum arbitrarily far, and no noise protects it)
 *   avg(col)       released as noisy sum / noisy count, each an ε share of its own
 *   min, max       refused: their sensitivity is the whole range
 *
 * ε is split evenly over the released quantities (sequential composition); groups are disjoint,
 * so each group spends the same ε in parallel. The whole release is charged once to the budget,
 * before any noise is drawn; an exhausted budget throws the protocol's DP_BUDGET_EXCEEDED.
 *
 * Not protected: which group keys exist. A key present in the result reveals that some row has
 * it; release noisy groups only over a key domain fixed in advance (see README).
 */

export interface NoiseRequest {
  /** Total ε of this release. */
  readonly epsilon: number;
}

export interface NoisyResult {
  readonly query: string;
  readonly columns: readonly string[];
  /** Group keys unchanged; aggregates as noisy floats. */
  readonly rows: readonly (readonly (CanonicalValue | number)[])[];
  readonly epsilon: number;
  /** Laplace scale b = Δ/ε of each select item's noise (avg: of its sum, its count is Δ=1). */
  readonly scales: readonly number[];
}

function unsupported(message: string, hint: string, details: Record<string, unknown>): DpnError {
  return new DpnError(ANALYTICS_NOISE_UNSUPPORTED, message, { hint, details });
}

/** Δ of each released sum, from the spec's clamp bounds. */
function sumSensitivity(spec: QuerySpec, column: string): number {
  const bound = spec.clamp?.find((b) => b.column === column);
  if (bound === undefined) {
    throw unsupported(
      `sum/avg of "${column}" has no clamp bound, so its sensitivity is unbounded.`,
      'Add { "column": …, "min": …, "max": … } to the spec\'s clamp and rerun the query.',
      { column },
    );
  }
  const sensitivity = Math.max(Math.abs(bound.min), Math.abs(bound.max));
  if (sensitivity === 0) {
    throw unsupported(
      `The clamp of "${column}" is [0, 0]: the sum is always 0.`,
      "Widen the bound.",
      {
        column,
      },
    );
  }
  return sensitivity;
}

/**
 * Adds Laplace noise to every aggregate of a job's combined partial (combinePartials: it keeps
 * avg's exact sum and count) and charges the release to `budget`. Returns the noisy result and
 * the budget after the charge (the input budget is not modified).
 */
export function releaseWithLaplace(
  query: unknown,
  combined: Partial,
  request: NoiseRequest,
  budget: PrivacyBudget,
  rng: Rng,
  params: PrivacyParams = DEFAULT_PRIVACY_PARAMS,
): { result: NoisyResult; budget: PrivacyBudget } {
  const spec = toQuerySpec(query);
  if (combined.query !== queryDigest(spec)) {
    throw unsupported(
      "The partial answers a different query.",
      "Pass the spec the partials were combined for.",
      {},
    );
  }
  const quantities = spec.select.reduce((n, item) => {
    if (item.fn === "min" || item.fn === "max") {
      throw unsupported(
        `${item.fn}(${item.column}) cannot be released with Laplace noise.`,
        "One row can move a min or max across the whole range; release a count or a clamped sum/avg instead.",
        { fn: item.fn, column: item.column },
      );
    }
    return n + (item.fn === "avg" ? 2 : 1);
  }, 0);
  const perQuantity = request.epsilon / quantities;
  const sensitivities = spec.select.map((item) =>
    item.fn === "count" ? 1 : sumSensitivity(spec, item.column as string),
  );
  // Validates ε (through the scale) before spending anything.
  const scales = sensitivities.map((s) => laplaceScale(s, perQuantity));
  const spent = spendPrivacyBudget(budget, { epsilon: request.epsilon, delta: 0 }, params);
  const noisy = (value: CanonicalValue | string | undefined, sensitivity: number): number =>
    // An empty group's NULL sum is released as a noisy 0: NULL itself would reveal emptiness.
    laplaceMechanism(
      typeof value === "string" ? Number(value) : (toNumber(value ?? null) ?? 0),
      sensitivity,
      perQuantity,
      rng,
    );
  const rows = combined.groups.map((group) => {
    const out: (CanonicalValue | number)[] = [...group.key];
    spec.select.forEach((item, i) => {
      const raw: AggregateFields = group.values[i] as PartialAggregate;
      const sensitivity = sensitivities[i] as number;
      if (item.fn === "count") out.push(noisy(raw.count, 1));
      else if (item.fn === "sum") out.push(noisy(raw.sum, sensitivity));
      else {
        const noisySum = noisy(raw.sum, sensitivity);
        const noisyCount = noisy(raw.count, 1);
        // A noisy count can be ≤ 0: divide by at least 1, then clamp into the column's bound
        // (post-processing, free under DP).
        const bound = spec.clamp?.find((b) => b.column === item.column);
        const avg = noisySum / Math.max(1, noisyCount);
        out.push(bound === undefined ? avg : Math.min(bound.max, Math.max(bound.min, avg)));
      }
    });
    return out;
  });
  return {
    result: {
      query: combined.query,
      columns: [...(spec.groupBy ?? []), ...spec.select.map(outputName)],
      rows,
      epsilon: request.epsilon,
      scales,
    },
    budget: spent,
  };
}
