import { performance } from "node:perf_hooks";
import { DpnError, seededRng } from "@dpn/protocol";
import type * as tfjs from "@tensorflow/tfjs";
import { checkDataset, type Dataset, shuffledIndices } from "./dataset.ts";
import { FL_INVALID_DATASET, FL_UPDATE_NOT_FINITE } from "./errors.ts";
import { buildModel, getFlatWeights, setFlatWeights } from "./model.ts";
import { type ModelSpec, parseModelSpec } from "./modelSpec.ts";
import { loadTf } from "./tfBackend.ts";
import { parseTrainConfig, type TrainConfig } from "./trainConfig.ts";
import { subtract } from "./vectors.ts";

type Tf = typeof tfjs;

/** One device's local training: start from `weights`, run `config.epochs` over `data`. */
export interface LocalTrainJob {
  readonly spec: ModelSpec;
  readonly config: TrainConfig;
  /** The global model the device starts from. */
  readonly weights: Float32Array;
  readonly data: Dataset;
  /** Seeds the batch order; the same job and seed give the same update. */
  readonly seed: string;
}

export interface LocalTrainResult {
  /** local weights − starting weights: what the device sends. */
  readonly update: Float32Array;
  /** Examples seen per epoch (the FedAvg weight). */
  readonly samples: number;
  readonly steps: number;
  /** Mean training loss over the run's batches. */
  readonly meanLoss: number;
  /** Wall time of the training alone, in this thread. */
  readonly elapsedMs: number;
}

export interface Evaluation {
  readonly accuracy: number;
  /** Mean cross-entropy (natural log). */
  readonly loss: number;
  readonly rows: number;
}

/** Models kept per thread; building one costs more than a small training step. */
const MAX_CACHED_MODELS = 8;
/** Rows per forward pass when evaluating: bounds the activations held at once. */
const EVAL_CHUNK_ROWS = 8192;

const models = new Map<string, tfjs.Sequential>();

function modelFor(tf: Tf, spec: ModelSpec): tfjs.Sequential {
  const key = JSON.stringify(spec);
  let model = models.get(key);
  if (model === undefined) {
    if (models.size >= MAX_CACHED_MODELS) {
      for (const old of models.values()) old.dispose();
      models.clear();
    }
    model = buildModel(tf, spec);
    models.set(key, model);
  }
  return model;
}

function checkFits(spec: ModelSpec, data: Dataset): void {
  checkDataset(data);
  if (data.features !== spec.inputs || data.classes !== spec.classes) {
    throw new DpnError(
      FL_INVALID_DATASET,
      `The data set has ${data.features} features and ${data.classes} classes; the model expects ${spec.inputs} and ${spec.classes}.`,
      { hint: "Train a model whose spec matches the data's shape." },
    );
  }
}

/** Loss of a batch of logits against class indices (one logit for two classes). */
function batchLoss(tf: Tf, spec: ModelSpec, logits: tfjs.Tensor, labels: tfjs.Tensor): tfjs.Scalar {
  if (spec.classes === 2) {
    return tf.losses.sigmoidCrossEntropy(labels.reshape([-1, 1]).toFloat(), logits) as tfjs.Scalar;
  }
  return tf.losses.softmaxCrossEntropy(
    tf.oneHot(labels.toInt(), spec.classes),
    logits,
  ) as tfjs.Scalar;
}

/**
 * Runs one local training in this thread (worker threads call this too, see executors/). Mini-
 * batch gradient steps over a seeded permutation per epoch; the last batch of an epoch may be
 * smaller. The update is checked to be finite: a diverged run is FL_UPDATE_NOT_FINITE, never sent.
 */
export async function trainLocal(job: LocalTrainJob): Promise<LocalTrainResult> {
  const tf = await loadTf();
  const spec = parseModelSpec(job.spec);
  const config = parseTrainConfig(job.config);
  checkFits(spec, job.data);
  const started = performance.now();
  const model = modelFor(tf, spec);
  setFlatWeights(tf, model, job.weights);
  const optimizer =
    config.optimizer === "adam"
      ? tf.train.adam(config.learningRate)
      : tf.train.sgd(config.learningRate);
  const { data } = job;
  const f = data.features;
  const rng = seededRng(`fl/train/${job.seed}`);
  let steps = 0;
  let lossSum = 0;
  const batchX = new Float32Array(config.batchSize * f);
  const batchY = new Int32Array(config.batchSize);
  try {
    for (let epoch = 0; epoch < config.epochs; epoch++) {
      const order = shuffledIndices(data.rows, rng);
      for (let start = 0; start < data.rows; start += config.batchSize) {
        const size = Math.min(config.batchSize, data.rows - start);
        for (let i = 0; i < size; i++) {
          const row = order[start + i] as number;
          batchX.set(data.x.subarray(row * f, row * f + f), i * f);
          batchY[i] = data.y[row] as number;
        }
        const cost = tf.tidy(() => {
          const xb = tf.tensor2d(batchX.subarray(0, size * f), [size, f]);
          const yb = tf.tensor1d(batchY.subarray(0, size), "int32");
          // With returnCost = true, minimize always returns the loss.
          return optimizer.minimize(
            () => batchLoss(tf, spec, model.apply(xb, { training: true }) as tfjs.Tensor, yb),
            true,
          ) as tfjs.Scalar;
        });
        lossSum += (cost.dataSync() as Float32Array)[0] as number;
        cost.dispose();
        steps += 1;
      }
    }
  } finally {
    optimizer.dispose();
  }
  const update = subtract(getFlatWeights(model), job.weights);
  for (const value of update) {
    if (!Number.isFinite(value)) {
      throw new DpnError(
        FL_UPDATE_NOT_FINITE,
        "Local training diverged: the update is not finite.",
        {
          hint: "Lower the learning rate or scale the features.",
        },
      );
    }
  }
  return {
    update,
    samples: data.rows,
    steps,
    meanLoss: steps === 0 ? 0 : lossSum / steps,
    elapsedMs: performance.now() - started,
  };
}

/** Accuracy and mean cross-entropy of `weights` on `data`, in this thread. */
export async function evaluate(
  specInput: ModelSpec,
  weights: Float32Array,
  data: Dataset,
): Promise<Evaluation> {
  const tf = await loadTf();
  const spec = parseModelSpec(specInput);
  checkFits(spec, data);
  const model = modelFor(tf, spec);
  setFlatWeights(tf, model, weights);
  const f = data.features;
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < data.rows; start += EVAL_CHUNK_ROWS) {
    const size = Math.min(EVAL_CHUNK_ROWS, data.rows - start);
    const labels = data.y.subarray(start, start + size);
    const [predicted, losses] = tf.tidy(() => {
      const xb = tf.tensor2d(data.x.subarray(start * f, (start + size) * f), [size, f]);
      const yb = tf.tensor1d(labels, "int32");
      // apply, not predict: predict splits its input into batches of 32, 250× slower here.
      const logits = model.apply(xb) as tfjs.Tensor;
      if (spec.classes === 2) {
        const flat = logits.reshape([-1]);
        const perRow = tf.losses.sigmoidCrossEntropy(
          yb.toFloat(),
          flat,
          undefined,
          undefined,
          tf.Reduction.NONE,
        );
        return [flat.greater(0).toInt().dataSync(), perRow.dataSync()];
      }
      const perRow = tf.losses.softmaxCrossEntropy(
        tf.oneHot(yb, spec.classes),
        logits,
        undefined,
        undefined,
        tf.Reduction.NONE,
      );
      return [logits.argMax(1).dataSync(), perRow.dataSync()];
    });
    for (let i = 0; i < size; i++) {
      if (predicted[i] === labels[i]) correct += 1;
      lossSum += losses[i] as number;
    }
  }
  return {
    accuracy: data.rows === 0 ? 0 : correct / data.rows,
    loss: data.rows === 0 ? 0 : lossSum / data.rows,
    rows: data.rows,
  };
}
