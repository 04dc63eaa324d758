import { z } from "zod";
import { FL_INVALID_MODEL_SPEC } from "./errors.ts";
import { parseWith } from "./schema.ts";

/**
 * Model specs as data: what a requester submits with an `fl-train` job and what every device
 * builds, layer for layer, from the same JSON. Two shapes:
 *
 * - `logistic`: one dense layer; sigmoid with one output unit for two classes, softmax (multinomial
 *   logistic regression) for more.
 * - `mlp`: dense hidden layers with one activation, then the same output layer.
 *
 * Parameters are laid out as one flat Float32 vector, layer by layer, each layer's kernel
 * ([inputs × units], row-major, as tfjs stores it) followed by its bias: the format of weights,
 * updates, compression and aggregation alike.
 */

/** Inputs a model may take: wide enough for 28 × 28 images (784), small enough to stay tabular-ish. */
export const MAX_INPUTS = 4096;
export const MAX_CLASSES = 1000;
export const MAX_HIDDEN_LAYERS = 4;
export const MAX_HIDDEN_UNITS = 1024;
/**
 * Largest parameter count (2^17). A dense float32 update is then 512 KiB, 683 KiB as base64,
 * inside one @dpn/wire envelope (MAX_PAYLOAD_BYTES = 1 MiB) even before compression; DESIGN's
 * reference 784-128-10 MLP (101,770 parameters) fits.
 */
export const MAX_MODEL_PARAMETERS = 131_072;

export const ACTIVATIONS = ["relu", "tanh", "sigmoid"] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const inputs = z.int().min(1).max(MAX_INPUTS);
const classes = z.int().min(2).max(MAX_CLASSES);

const LogisticSpec = z.strictObject({
  kind: z.literal("logistic"),
  inputs,
  classes,
});

const MlpSpec = z.strictObject({
  kind: z.literal("mlp"),
  inputs,
  hidden: z.array(z.int().min(1).max(MAX_HIDDEN_UNITS)).min(1).max(MAX_HIDDEN_LAYERS),
  activation: z.enum(ACTIVATIONS).default("relu"),
  classes,
});

export const ModelSpecSchema = z
  .discriminatedUnion("kind", [LogisticSpec, MlpSpec])
  .superRefine((spec, ctx) => {
    const count = countParameters(denseLayersOf(spec));
    if (count > MAX_MODEL_PARAMETERS) {
      ctx.addIssue({
        code: "custom",
        message: `the model has ${count} parameters, more than MAX_MODEL_PARAMETERS = ${MAX_MODEL_PARAMETERS}`,
        path: [],
      });
    }
  });

export type ModelSpec = z.output<typeof ModelSpecSchema>;
export type ModelSpecInput = z.input<typeof ModelSpecSchema>;

/** One dense layer of a spec: `inputs × units` kernel, `units` bias, then the activation. */
export interface DenseLayer {
  readonly inputs: number;
  readonly units: number;
  readonly activation: Activation | "softmax";
}

/**
 * Validates a spec (from JSON or code) and fills defaults. Anything else — unknown kind, extra
 * keys, a non-integer width, too many parameters — is FL_INVALID_MODEL_SPEC naming the field.
 */
export function parseModelSpec(value: unknown): ModelSpec {
  return parseWith(
    ModelSpecSchema,
    value,
    FL_INVALID_MODEL_SPEC,
    "model spec",
    'A spec is { kind: "logistic", inputs, classes } or { kind: "mlp", inputs, hidden: [units…], activation?, classes } with integer sizes within the MAX_* limits.',
  );
}

/** The dense layers a (validated) spec builds, input to output. */
export function denseLayers(spec: ModelSpec): readonly DenseLayer[] {
  return denseLayersOf(spec);
}

function denseLayersOf(spec: {
  readonly kind: "logistic" | "mlp";
  readonly inputs: number;
  readonly classes: number;
  readonly hidden?: readonly number[];
  readonly activation?: Activation;
}): DenseLayer[] {
  const layers: DenseLayer[] = [];
  let width = spec.inputs;
  if (spec.kind === "mlp") {
    for (const units of spec.hidden ?? []) {
      layers.push({ inputs: width, units, activation: spec.activation ?? "relu" });
      width = units;
    }
  }
  // Two classes: one sigmoid unit (log-odds of class 1), half the output parameters of softmax.
  const binary = spec.classes === 2;
  layers.push({
    inputs: width,
    units: binary ? 1 : spec.classes,
    activation: binary ? "sigmoid" : "softmax",
  });
  return layers;
}

function countParameters(layers: readonly DenseLayer[]): number {
  let count = 0;
  for (const layer of layers) count += layer.inputs * layer.units + layer.units;
  return count;
}

/** Length of the flat weight vector of a (validated) spec. */
export function parameterCount(spec: ModelSpec): number {
  return countParameters(denseLayersOf(spec));
}
