import { z } from "zod";
import { Base64 } from "../schemas.ts";
import { FlDataset, PartitionName } from "./flTrain.ts";
import { taskWire } from "./kind.ts";

/**
 * `fl-features`, light-layer preparation for training (docs/protocol.md §Federated learning
 * jobs): each device holding a partition cleans it, extracts its features, and releases them
 * only under local differential privacy (Laplace on clipped features, randomised response on
 * labels), charged to its privacy budget on the data set. The released sets become the training
 * data of an fl-train job (`features`), which then may run on any heavy device: the raw rows
 * never left their holders.
 */
export const FlFeaturesJobSpec = z.strictObject({
  type: z.literal("fl-features"),
  dataset: FlDataset,
  partitions: z.array(PartitionName).min(1).max(64),
  /** ε of the Laplace mechanism on the features (sensitivity Σ(hi − lo) of the clip bounds). */
  featureEpsilon: z.number().positive().max(100),
  /** ε of randomised response on the labels; absent: labels are released as they are. */
  labelEpsilon: z.optional(z.number().positive().max(100)),
  /** Rows each partition holds, roughly: for the price. */
  samplesPerTask: z.number().int().min(1).max(1_000_000),
});

/** One feature task as leased: the partition to release and the ε of each mechanism. */
export const FeaturesItem = z.strictObject({
  dataset: FlDataset,
  partition: PartitionName,
  featureEpsilon: z.number().positive().max(100),
  labelEpsilon: z.optional(z.number().positive().max(100)),
});
export type FeaturesItem = z.infer<typeof FeaturesItem>;

/** A released (privatized) data set: features float32 and labels int32, little-endian, base64. */
export const FeatureSetOutput = z.strictObject({
  rows: z.number().int().min(1).max(1_000_000),
  features: z.number().int().min(1).max(4096),
  classes: z.number().int().min(2).max(1000),
  x: Base64,
  y: Base64,
  /** Rows dropped by cleaning (non-finite values). */
  dropped: z.number().int().min(0),
});
export type FeatureSetOutput = z.infer<typeof FeatureSetOutput>;

export const flFeatures = taskWire({
  type: "fl-features",
  spec: FlFeaturesJobSpec,
  item: FeaturesItem,
  output: FeatureSetOutput,
  capability: undefined,
});
