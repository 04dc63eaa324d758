import { z } from "zod";
import { FL_INVALID_TRAIN_CONFIG } from "./errors.ts";
import { parseWith } from "./schema.ts";

/**
 * Hyper-parameters of one local training run (one device, one round). The optimizer starts fresh
 * every run: a device keeps no state between rounds, so any device can take any round.
 */

/** A batch larger than this buys nothing on tabular data and holds batch × inputs floats at once. */
export const MAX_BATCH_SIZE = 4096;
/** Local epochs per round; more than this is centralised training on one device's data. */
export const MAX_LOCAL_EPOCHS = 100;

export const OPTIMIZERS = ["sgd", "adam"] as const;

export const TrainConfigSchema = z.strictObject({
  optimizer: z.enum(OPTIMIZERS).default("sgd"),
  learningRate: z.number().gt(0).max(10),
  batchSize: z.int().min(1).max(MAX_BATCH_SIZE),
  epochs: z.int().min(1).max(MAX_LOCAL_EPOCHS),
});

export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

/** Validates hyper-parameters; anything out of bounds is FL_INVALID_TRAIN_CONFIG. */
export function parseTrainConfig(value: unknown): TrainConfig {
  return parseWith(
    TrainConfigSchema,
    value,
    FL_INVALID_TRAIN_CONFIG,
    "training config",
    `Pass { optimizer?: "sgd" | "adam", learningRate in (0, 10], batchSize 1–${MAX_BATCH_SIZE}, epochs 1–${MAX_LOCAL_EPOCHS} }.`,
  );
}
