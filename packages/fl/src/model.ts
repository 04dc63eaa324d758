import { DpnError, seededRng } from "@dpn/protocol";
import type * as tfjs from "@tensorflow/tfjs";
import { FL_UPDATE_SHAPE_MISMATCH } from "./errors.ts";
import { denseLayers, type ModelSpec, parameterCount } from "./modelSpec.ts";

type Tf = typeof tfjs;

/**
 * Initial weights of a spec, computed here rather than by tfjs so that they are the same on
 * every device, backend and thread for a seed: Glorot-uniform kernels (limit √(6 / (in + out)),
 * Glorot & Bengio 2010, the Keras default) drawn from the protocol's seeded Rng, zero biases.
 */
export function initialWeights(spec: ModelSpec, seed: string): Float32Array {
  const rng = seededRng(`fl/init/${seed}`);
  const weights = new Float32Array(parameterCount(spec));
  let at = 0;
  for (const layer of denseLayers(spec)) {
    const limit = Math.sqrt(6 / (layer.inputs + layer.units));
    const kernel = layer.inputs * layer.units;
    for (let i = 0; i < kernel; i++) weights[at + i] = (2 * rng.nextFloat() - 1) * limit;
    at += kernel + layer.units;
  }
  return weights;
}

/**
 * The tfjs layers model of a spec. The output layer is linear: it emits logits, the losses
 * (sigmoid / softmax cross-entropy) take logits, and prediction applies the output activation
 * (denseLayers' `sigmoid` / `softmax`), which is numerically safer than probabilities in the loss.
 */
export function buildModel(tf: Tf, spec: ModelSpec): tfjs.Sequential {
  const layers = denseLayers(spec);
  const model = tf.sequential();
  layers.forEach((layer, i) => {
    const output = i === layers.length - 1;
    model.add(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [layer.inputs] } : {}),
        units: layer.units,
        activation: output ? "linear" : layer.activation,
        // Weights are always set from a flat vector; zeros keep tfjs from drawing random numbers.
        kernelInitializer: "zeros",
        biasInitializer: "zeros",
      }),
    );
  });
  return model;
}

/** Loads a flat vector into the model (layer by layer: kernel, then bias). */
export function setFlatWeights(tf: Tf, model: tfjs.LayersModel, weights: Float32Array): void {
  const expected = countWeights(model);
  if (weights.length !== expected) {
    throw new DpnError(
      FL_UPDATE_SHAPE_MISMATCH,
      `The model has ${expected} parameters, the weight vector ${weights.length}.`,
      { hint: "Weights and updates must come from the same model spec." },
    );
  }
  let at = 0;
  const tensors = model.getWeights().map((w) => {
    const size = w.size;
    const t = tf.tensor(weights.subarray(at, at + size), w.shape, "float32");
    at += size;
    return t;
  });
  model.setWeights(tensors);
  for (const t of tensors) t.dispose();
}

/** The model's weights as one flat vector. */
export function getFlatWeights(model: tfjs.LayersModel): Float32Array {
  const out = new Float32Array(countWeights(model));
  let at = 0;
  for (const w of model.getWeights()) {
    out.set(w.dataSync() as Float32Array, at);
    at += w.size;
  }
  return out;
}

function countWeights(model: tfjs.LayersModel): number {
  let count = 0;
  for (const w of model.getWeights()) count += w.size;
  return count;
}
