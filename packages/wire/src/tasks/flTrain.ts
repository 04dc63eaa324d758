import { z } from "zod";
import { Base64 } from "../schemas.ts";
import { taskWire } from "./kind.ts";

/**
 * `fl-train` (docs/protocol.md §Federated learning jobs): synchronous FedAvg rounds over data
 * partitions that stay on the devices holding them. Each round samples `devicesPerRound`
 * partitions; each sampled partition trains the global model locally and returns a compressed
 * update; the node bounds each update's norm, aggregates (mean, or a robust rule), evaluates the
 * new global model on the requester's validation set and opens the next round.
 */
export const FL_DATASETS = ["flights-regions/v1", "penguins-islands/v1"] as const;
export const FlDataset = z.enum(FL_DATASETS);
export const PartitionName = z.string().regex(/^[a-z0-9._-]{1,64}$/);

/** Local differential privacy on every update (Gaussian mechanism after clipping to clipNorm). */
export const FlPrivacy = z.strictObject({
  epsilon: z.number().positive().lt(1),
  delta: z.number().positive().max(1e-3),
  clipNorm: z.number().positive().max(1e6),
});

export const FlJobSpec = z.strictObject({
  type: z.literal("fl-train"),
  dataset: FlDataset,
  partitions: z.array(PartitionName).min(1).max(64),
  /** The fl package's ModelSpec ({ kind: "logistic" | "mlp", … }). */
  model: z.record(z.string(), z.unknown()),
  /** The fl package's TrainConfig ({ learningRate, batchSize, epochs, optimizer? }). */
  train: z.record(z.string(), z.unknown()),
  rounds: z.number().int().min(1).max(100),
  devicesPerRound: z.number().int().min(1).max(64),
  /**
   * sync (default): FedAvg rounds. async: FedAsync — every task starts from the newest global
   * model and its result is mixed in as it arrives with weight α·(τ+1)^−½ for staleness τ
   * (versions since it started); rounds × devicesPerRound updates in all.
   */
  mode: z.optional(z.enum(["sync", "async"])),
  /**
   * Train on the released feature sets of a finished fl-features job instead of raw partitions:
   * every partition of that job becomes a training partition any heavy device may take.
   */
  features: z.optional(z.string().min(1).max(64)),
  /**
   * Share of synchronous updates re-executed by another holder of the same partition with the
   * same base model and seed before they are paid (default 0.1; 0 turns it off).
   */
  spotCheck: z.optional(z.number().min(0).max(1)),
  alpha: z.optional(z.number().positive().max(1)),
  aggregation: z.optional(z.enum(["mean", "median", "trimmed-mean"])),
  /** Updates with a larger L2 norm are refused (FL_UPDATE_NORM_EXCEEDED). Default 10. */
  maxUpdateNorm: z.optional(z.number().positive().max(1e6)),
  /** Top-k fraction of the update to send, 8-bit quantised (default 1: dense, 8-bit). */
  topK: z.optional(z.number().positive().max(1)),
  /** A round closes this long after it opens, with the updates that arrived (FedAvg deadline). */
  roundDeadlineMs: z.optional(z.number().int().min(1_000).max(86_400_000)),
  /** Examples each partition holds, roughly: for the price (CU = FLOPs of training them). */
  samplesPerTask: z.number().int().min(1).max(1_000_000),
  /** Each task spends ε, δ of the holding device's lifetime budget on the data set. */
  privacy: z.optional(FlPrivacy),
});

/**
 * One training task as leased: the round's global model (float32 little-endian, base64), the
 * model and training config, the partition to train on and a seed for the batch order. With
 * `features`, the lease's artifacts name the released feature set (`featureSet`) instead.
 */
export const TrainingItem = z.strictObject({
  dataset: FlDataset,
  partition: PartitionName,
  round: z.number().int().min(0),
  weights: Base64,
  model: z.record(z.string(), z.unknown()),
  train: z.record(z.string(), z.unknown()),
  topK: z.number().positive().max(1),
  seed: z.string().min(1).max(256),
  privacy: z.optional(FlPrivacy),
});
export type TrainingItem = z.infer<typeof TrainingItem>;

/** One device's training result: the compressed update, base64, and what it trained on. */
export const FlOutput = z.strictObject({
  update: Base64,
  samples: z.number().int().min(1),
  meanLoss: z.number(),
  bytesBefore: z.number().int().min(0),
  bytesAfter: z.number().int().min(0),
});
export type FlOutput = z.infer<typeof FlOutput>;

export const flTrain = taskWire({
  type: "fl-train",
  spec: FlJobSpec,
  item: TrainingItem,
  output: FlOutput,
  capability: undefined,
});
