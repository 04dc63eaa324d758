import {
  type AggregationRule,
  aggregateUpdates,
  boundUpdateNorm,
  checkUpdate,
  decodeFeatureSet,
  decodeUpdate,
  evaluate,
  fedAsyncAlpha,
  fedAsyncMix,
  holdingId,
  initialWeights,
  loadExampleDataset,
  type ModelSpec,
  parameterCount,
  parseModelSpec,
  parseTrainConfig,
  type TrainConfig,
} from "@dpn/fl";
import {
  type CostModelParams,
  costCu,
  createPrivacyBudget,
  DpnError,
  isDpnError,
  type PrivacyBudget,
  type PrivacyParams,
  seededRng,
  spendPrivacyBudget,
} from "@dpn/protocol";
import { FeatureSetOutput, FlOutput, parseMessage, type SpecOf } from "@dpn/wire";
import type { Verdict } from "../kind.ts";

/**
 * `fl-train` jobs in the bank (docs/protocol.md §Federated learning jobs): synchronous FedAvg
 * rounds over data partitions that stay on the devices holding them. The schedule (which
 * partitions train in which round) is drawn from the job's seed; each task trains the round's
 * global model on one partition and returns a compressed update, which the node admits under a
 * norm bound; when a round's tasks have all returned (or its deadline passed), the node
 * aggregates the admitted updates (mean weighted by examples, or coordinate-wise median or
 * trimmed mean against poisoning), evaluates the new global model on the requester's validation
 * set and opens the next round. All maths is @dpn/fl's.
 */
export type FlSpec = SpecOf<"fl-train">;
export type FeaturesSpec = SpecOf<"fl-features">;

/** What one task of a job releases about its device's data set under DP, if anything. */
export function releaseOf(
  spec: FlSpec | FeaturesSpec,
): { readonly epsilon: number; readonly delta: number } | undefined {
  if (spec.type === "fl-features") {
    return { epsilon: spec.featureEpsilon + (spec.labelEpsilon ?? 0), delta: 0 };
  }
  return spec.privacy === undefined
    ? undefined
    : { epsilon: spec.privacy.epsilon, delta: spec.privacy.delta };
}

/** Default bound on an update's L2 norm: generous for the small models of the examples. */
export const DEFAULT_MAX_UPDATE_NORM = 10;
/** Default round deadline: late updates are dropped, as FedAvg's deadline does. */
export const DEFAULT_ROUND_DEADLINE_MS = 120_000;

export interface FlPlan {
  readonly model: ModelSpec;
  readonly train: TrainConfig;
  readonly parameters: number;
  /** CU of one task (one partition, one round). */
  readonly taskCu: number;
}

/**
 * Validates a spec against the fl package and the data set; coded errors name the field. With
 * `features`, that fl-features job must be done and must have released every partition named.
 */
export async function planFl(
  spec: FlSpec,
  costModel: CostModelParams,
  jobOf: (
    id: string,
  ) => Promise<
    { readonly type: string; readonly state: string; readonly spec_json: string } | undefined
  >,
): Promise<FlPlan> {
  const model = parseModelSpec(spec.model);
  const train = parseTrainConfig(spec.train);
  const data = await loadExampleDataset(spec.dataset);
  if (spec.features !== undefined) {
    const source = await jobOf(spec.features);
    if (source === undefined || source.type !== "fl-features" || source.state !== "done") {
      throw new DpnError(
        "FL_INVALID_DATASET",
        `features ${spec.features} is not a finished fl-features job.`,
        { hint: "Run an fl-features job first and pass its id once it is done." },
      );
    }
    const released = (JSON.parse(source.spec_json) as FeaturesSpec).partitions;
    const missing = spec.partitions.filter((p) => !released.includes(p));
    if (missing.length > 0) {
      throw new DpnError(
        "FL_INVALID_DATASET",
        `fl-features job ${spec.features} released no features for ${missing.join(", ")}.`,
        { hint: `Train on its partitions: ${released.join(", ")}.` },
      );
    }
  }
  for (const partition of spec.partitions) {
    if (!data.partitions.has(partition)) {
      throw new DpnError("FL_INVALID_DATASET", `${spec.dataset} has no partition "${partition}".`, {
        hint: `Use partitions of ${[...data.partitions.keys()].join(", ")}.`,
      });
    }
  }
  if (model.inputs !== data.test.features || model.classes !== data.test.classes) {
    throw new DpnError(
      "FL_INVALID_MODEL_SPEC",
      `${spec.dataset} has ${data.test.features} features and ${data.test.classes} classes; the model expects ${model.inputs} and ${model.classes}.`,
      { hint: `Set inputs: ${data.test.features} and classes: ${data.test.classes}.` },
    );
  }
  const parameters = parameterCount(model);
  const taskCu = costCu(
    { type: "fl-train", parameters, samples: spec.samplesPerTask, epochs: train.epochs },
    costModel,
  );
  return { model, train, parameters, taskCu };
}

/** The partition each task trains, round by round: `devicesPerRound` distinct draws per round. */
export function flSchedule(
  seed: string,
  spec: FlSpec,
): Array<{ round: number; partition: string }> {
  const schedule: Array<{ round: number; partition: string }> = [];
  for (let round = 1; round <= spec.rounds; round++) {
    const rng = seededRng(`${seed}:fl:round:${round}`);
    const pool = [...spec.partitions];
    for (let k = 0; k < spec.devicesPerRound; k++) {
      // Without replacement while partitions remain, then again from all of them.
      if (pool.length === 0) pool.push(...spec.partitions);
      const at = Math.floor(rng.nextFloat() * pool.length);
      const [partition] = pool.splice(at, 1);
      schedule.push({ round, partition: partition as string });
    }
  }
  return schedule;
}

export function requiredHolding(spec: FlSpec | FeaturesSpec, partition: string): string {
  return holdingId(spec.dataset, partition);
}

export function initialGlobal(spec: FlSpec, seed: string): Float32Array {
  return initialWeights(parseModelSpec(spec.model), `${seed}:fl:init`);
}

/** Decodes and admits one update: shape, finiteness and the norm bound (reject, never clip). */
export function admitUpdate(
  spec: FlSpec,
  outputs: readonly unknown[],
): Extract<Verdict, { ok: false }> | { ok: true; update: Float32Array; output: FlOutput } {
  try {
    if (outputs.length !== 1) {
      throw new DpnError("FL_UPDATE_MALFORMED", "A training task returns exactly one output.");
    }
    const output = parseMessage(FlOutput, outputs[0], "training output");
    const parameters = parameterCount(parseModelSpec(spec.model));
    const update = checkUpdate(
      decodeUpdate(new Uint8Array(Buffer.from(output.update, "base64")), parameters),
      parameters,
    );
    boundUpdateNorm(update, spec.maxUpdateNorm ?? DEFAULT_MAX_UPDATE_NORM, "reject");
    return { ok: true, update, output };
  } catch (error) {
    if (!isDpnError(error)) throw error;
    return { ok: false, code: error.code, reason: error.message };
  }
}

function rule(spec: FlSpec): AggregationRule {
  switch (spec.aggregation ?? "mean") {
    case "median":
      return { kind: "median" };
    case "trimmed-mean":
      return { kind: "trimmedMean", trimFraction: 0.2 };
    default:
      return { kind: "mean" };
  }
}

export interface RoundOutcome {
  readonly weights: Float32Array;
  readonly accuracy: number;
  readonly loss: number;
  readonly updates: number;
}

/**
 * Closes a round: the admitted updates are aggregated and added to the global model (server
 * learning rate 1), which is then evaluated on the validation set. A round with no update keeps
 * the model as it was.
 */
export async function closeRound(
  spec: FlSpec,
  global: Float32Array,
  contributions: ReadonlyArray<{ update: Float32Array; samples: number }>,
): Promise<RoundOutcome> {
  let weights = global;
  if (contributions.length > 0) {
    const step = aggregateUpdates(rule(spec), contributions);
    weights = Float32Array.from(global, (w, i) => w + (step[i] ?? 0));
  }
  const { test } = await loadExampleDataset(spec.dataset);
  const evaluation = await evaluate(parseModelSpec(spec.model), weights, test);
  return {
    weights,
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    updates: contributions.length,
  };
}

export function weightsToBase64(weights: Float32Array): string {
  return Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).toString("base64");
}

export function weightsFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, "base64");
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

/**
 * The node's side of local DP (docs/protocol.md §Federated learning jobs): it counts what every
 * device has released about each data set it holds, and gives a DP training task only to a
 * device whose lifetime budget still covers it. The device adds the noise and keeps its own
 * account too; the node's count is what makes "refused" enforceable and visible.
 */
export function budgetFromJson(
  json: string | undefined,
  deviceId: string,
  dataset: string,
  params: PrivacyParams,
): PrivacyBudget {
  if (json === undefined) return createPrivacyBudget(deviceId, dataset, params);
  const raw = JSON.parse(json) as Record<string, string | number>;
  return {
    deviceId,
    datasetId: dataset,
    totalEpsilonUnits: BigInt(raw.totalEpsilonUnits as string),
    totalDeltaUnits: BigInt(raw.totalDeltaUnits as string),
    spentEpsilonUnits: BigInt(raw.spentEpsilonUnits as string),
    spentDeltaUnits: BigInt(raw.spentDeltaUnits as string),
    releases: Number(raw.releases),
  };
}

export function budgetToJson(budget: PrivacyBudget): string {
  return JSON.stringify({
    totalEpsilonUnits: budget.totalEpsilonUnits.toString(),
    totalDeltaUnits: budget.totalDeltaUnits.toString(),
    spentEpsilonUnits: budget.spentEpsilonUnits.toString(),
    spentDeltaUnits: budget.spentDeltaUnits.toString(),
    releases: budget.releases,
  });
}

/** The budget after one more release, or undefined when it would be exceeded. */
export function afterRelease(
  budget: PrivacyBudget,
  privacy: { readonly epsilon: number; readonly delta: number },
  params: PrivacyParams,
): PrivacyBudget | undefined {
  try {
    return spendPrivacyBudget(budget, { epsilon: privacy.epsilon, delta: privacy.delta }, params);
  } catch (error) {
    if (isDpnError(error, "DP_BUDGET_EXCEEDED")) return undefined;
    throw error;
  }
}

/** FedAsync's defaults (its paper's): α = 0.6, polynomial staleness (τ + 1)^−0.5. */
export const DEFAULT_ASYNC_ALPHA = 0.6;

/**
 * FedAsync (docs/protocol.md §Federated learning jobs): the device trained from version `base`;
 * its model `base + update` is mixed into the newest global with α·(τ+1)^−½, τ = versions since.
 */
export async function mixAsync(
  spec: FlSpec,
  latest: Float32Array,
  base: Float32Array,
  update: Float32Array,
  staleness: number,
): Promise<RoundOutcome & { readonly mixingWeight: number }> {
  const mixingWeight = fedAsyncAlpha(
    spec.alpha ?? DEFAULT_ASYNC_ALPHA,
    { kind: "polynomial", a: 0.5 },
    Math.max(0, staleness),
  );
  const deviceModel = Float32Array.from(base, (w, i) => w + (update[i] ?? 0));
  const weights = fedAsyncMix(latest, deviceModel, mixingWeight);
  const { test } = await loadExampleDataset(spec.dataset);
  const evaluation = await evaluate(parseModelSpec(spec.model), weights, test);
  return {
    weights,
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    updates: 1,
    mixingWeight,
  };
}

/** Default share of synchronous updates that are spot re-executed. */
export const DEFAULT_SPOT_CHECK = 0.1;
/**
 * Two honest runs of the same task agree bit for bit on one machine type; across machines tfjs
 * may pick another wasm build and sum in another order, and 8-bit quantisation can then move a
 * coordinate by a step. 5% of the update's norm absorbs that and still catches a forged update.
 */
export const SPOT_TOLERANCE = 0.05;
/** Re-executions of one update, at most: the first to agree with the original decides. */
export const MAX_SPOT_RUNS = 2;

/** Whether an update is selected for re-execution (seeded by the job and task: auditable). */
export function selectedForSpotCheck(seed: string, taskId: string, spec: FlSpec): boolean {
  const share = spec.spotCheck ?? DEFAULT_SPOT_CHECK;
  return share > 0 && seededRng(`${seed}:spot:${taskId}`).nextFloat() < share;
}

/** Relative L2 distance of two updates, against the larger norm. */
export function updateDistance(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    diff += (x - y) ** 2;
    na += x * x;
    nb += y * y;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(Math.max(na, nb)), 1e-12);
}

/** CU of one fl-features task: a scan of the partition's rows × features cells. */
export async function planFeatures(
  spec: FeaturesSpec,
  costModel: CostModelParams,
): Promise<number> {
  const data = await loadExampleDataset(spec.dataset);
  for (const partition of spec.partitions) {
    if (!data.partitions.has(partition)) {
      throw new DpnError("FL_INVALID_DATASET", `${spec.dataset} has no partition "${partition}".`, {
        hint: `Use partitions of ${[...data.partitions.keys()].join(", ")}.`,
      });
    }
  }
  return costCu(
    { type: "sql-analytics", rows: spec.samplesPerTask, columns: data.test.features },
    costModel,
  );
}

/** Checks a released feature set: the wire shape, then sizes, finiteness and labels. */
export function admitFeatureSet(
  outputs: readonly unknown[],
): Extract<Verdict, { ok: false }> | { ok: true; output: FeatureSetOutput } {
  try {
    if (outputs.length !== 1) {
      throw new DpnError("FL_INVALID_DATASET", "A feature task returns exactly one output.");
    }
    const output = parseMessage(FeatureSetOutput, outputs[0], "feature set");
    decodeFeatureSet(output);
    return { ok: true, output };
  } catch (error) {
    if (!isDpnError(error)) throw error;
    return { ok: false, code: error.code, reason: error.message };
  }
}

/** The artifact bytes of a released feature set, from a task's stored outputs (JSON array). */
export function featureSetBytes(outputsJson: string): Buffer {
  const [output] = JSON.parse(outputsJson) as unknown[];
  return Buffer.from(JSON.stringify(output));
}
