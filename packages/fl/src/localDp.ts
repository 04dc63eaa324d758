import {
  createPrivacyBudget,
  DEFAULT_PRIVACY_PARAMS,
  DpnError,
  gaussianNoise,
  gaussianSigma,
  laplaceNoise,
  laplaceScale,
  type PrivacyBudget,
  type PrivacyParams,
  type Rng,
  remainingPrivacyBudget,
  spendPrivacyBudget,
} from "@dpn/protocol";
import type { Dataset } from "./dataset.ts";
import { FL_INVALID_PRIVACY } from "./errors.ts";
import { boundUpdateNorm } from "./updateBounds.ts";

/**
 * Local differential privacy for federated learning, built on the protocol's mechanisms and
 * budget (docs/protocol.md §Differential privacy): the device privatises what it releases, so
 * neither the server nor other devices see anything else.
 *
 * - Updates: clip to L2 norm C, add N(0, σ²) to every coordinate with the Gaussian mechanism's
 *   σ = Δ₂·√(2 ln(1.25/δ))/ε. The unit of privacy is the device's whole data set: replacing all
 *   of it moves a clipped update by at most 2C, so Δ₂ = 2C. Each update is one release.
 * - Features: each record's features, clipped to known bounds, get Laplace noise with the L1
 *   sensitivity Σ (hiⱼ − loⱼ); labels optionally go through k-ary randomised response. One
 *   release per data set; training on the noisy copy any number of times is post-processing.
 *
 * Every release is charged first to the (device, data set) budget by sequential composition; a
 * release that would overrun it throws the protocol's DP_BUDGET_EXCEEDED and nothing is released.
 */
export class PrivacyAccountant {
  readonly params: PrivacyParams;
  readonly #budgets = new Map<string, PrivacyBudget>();

  constructor(params: PrivacyParams = DEFAULT_PRIVACY_PARAMS) {
    this.params = params;
  }

  /** The current budget of one device on one data set (fresh if never charged). */
  budget(deviceId: string, datasetId: string): PrivacyBudget {
    return (
      this.#budgets.get(key(deviceId, datasetId)) ??
      createPrivacyBudget(deviceId, datasetId, this.params)
    );
  }

  /** Charges a release or throws DP_BUDGET_EXCEEDED, leaving the budget as it was. */
  charge(deviceId: string, datasetId: string, epsilon: number, delta: number): PrivacyBudget {
    const next = spendPrivacyBudget(
      this.budget(deviceId, datasetId),
      { epsilon, delta },
      this.params,
    );
    this.#budgets.set(key(deviceId, datasetId), next);
    return next;
  }

  remaining(deviceId: string, datasetId: string): { epsilon: number; delta: number } {
    return remainingPrivacyBudget(this.budget(deviceId, datasetId));
  }

  /** Every budget charged so far (to persist them). */
  budgets(): PrivacyBudget[] {
    return [...this.#budgets.values()];
  }

  /** Puts back a budget read from storage (what was spent before a restart stays spent). */
  restore(budget: PrivacyBudget): void {
    remainingPrivacyBudget(budget); // validates it
    this.#budgets.set(key(budget.deviceId, budget.datasetId), budget);
  }
}

function key(deviceId: string, datasetId: string): string {
  return JSON.stringify([deviceId, datasetId]);
}

/** Who releases, and where the randomness comes from. */
export interface ReleaseContext {
  readonly accountant: PrivacyAccountant;
  readonly deviceId: string;
  readonly datasetId: string;
  readonly rng: Rng;
}

export interface UpdatePrivacy {
  /** L2 clipping norm C. */
  readonly clipNorm: number;
  /** ε of this release; the Gaussian mechanism needs ε < 1 (DP_INVALID_EPSILON otherwise). */
  readonly epsilon: number;
  readonly delta: number;
}

export interface PrivateUpdate {
  readonly update: Float32Array;
  /** Standard deviation of the noise added to each coordinate. */
  readonly sigma: number;
  readonly clipped: boolean;
}

/** Clips an update, charges (ε, δ) to the device's budget, then adds Gaussian noise. */
export function privatizeUpdate(
  update: Float32Array,
  privacy: UpdatePrivacy,
  context: ReleaseContext,
): PrivateUpdate {
  if (!(Number.isFinite(privacy.clipNorm) && privacy.clipNorm > 0)) {
    throw new DpnError(FL_INVALID_PRIVACY, `clipNorm must be > 0, got ${privacy.clipNorm}.`, {
      hint: "Clip to about the median norm of honest updates.",
    });
  }
  const sensitivity = 2 * privacy.clipNorm;
  // Validates ε < 1 and δ before anything is charged.
  const sigma = gaussianSigma(sensitivity, privacy.epsilon, privacy.delta);
  context.accountant.charge(context.deviceId, context.datasetId, privacy.epsilon, privacy.delta);
  const bounded = boundUpdateNorm(update, privacy.clipNorm, "clip");
  const out = new Float32Array(update.length);
  for (let i = 0; i < out.length; i++) {
    out[i] =
      (bounded.update[i] as number) +
      gaussianNoise(sensitivity, privacy.epsilon, privacy.delta, context.rng);
  }
  return { update: out, sigma, clipped: bounded.clipped };
}

export interface FeaturePrivacy {
  /** ε spent on the features of every record (one release for the data set). */
  readonly featureEpsilon: number;
  /** Per-feature bounds [lo, hi]; values are clipped into them before noise. */
  readonly bounds: readonly (readonly [number, number])[];
  /** ε for k-ary randomised response on labels; omit to release labels unchanged (not private). */
  readonly labelEpsilon?: number;
}

/**
 * A privatised copy of a data set: Laplace noise on clipped features, randomised response on
 * labels. Charges featureEpsilon (+ labelEpsilon) as one pure-ε release.
 */
export function privatizeFeatures(
  data: Dataset,
  privacy: FeaturePrivacy,
  context: ReleaseContext,
): Dataset {
  if (privacy.bounds.length !== data.features) {
    throw new DpnError(
      FL_INVALID_PRIVACY,
      `Pass bounds for each of the ${data.features} features, got ${privacy.bounds.length}.`,
    );
  }
  let sensitivity = 0;
  for (const [lo, hi] of privacy.bounds) {
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
      throw new DpnError(
        FL_INVALID_PRIVACY,
        `Feature bounds must be finite with lo < hi, got [${lo}, ${hi}].`,
      );
    }
    sensitivity += hi - lo;
  }
  const labelEpsilon = privacy.labelEpsilon;
  // Validates ε (and the sensitivity) before anything is charged.
  laplaceScale(sensitivity, privacy.featureEpsilon);
  if (labelEpsilon !== undefined) laplaceScale(1, labelEpsilon);
  context.accountant.charge(
    context.deviceId,
    context.datasetId,
    privacy.featureEpsilon + (labelEpsilon ?? 0),
    0,
  );
  const f = data.features;
  const x = new Float32Array(data.x.length);
  for (let i = 0; i < x.length; i++) {
    const [lo, hi] = privacy.bounds[i % f] as readonly [number, number];
    const value = Math.min(hi, Math.max(lo, data.x[i] as number));
    x[i] = value + laplaceNoise(sensitivity, privacy.featureEpsilon, context.rng);
  }
  const y = new Int32Array(data.y);
  if (labelEpsilon !== undefined) {
    // k-ary randomised response (Warner 1965): keep the label with p = e^ε / (e^ε + k − 1).
    const k = data.classes;
    const keep = Math.exp(labelEpsilon) / (Math.exp(labelEpsilon) + k - 1);
    for (let i = 0; i < y.length; i++) {
      if (context.rng.nextFloat() >= keep) {
        const other = context.rng.nextInt(k - 1);
        y[i] = other >= (y[i] as number) ? other + 1 : other;
      }
    }
  }
  return { rows: data.rows, features: f, classes: data.classes, x, y };
}
