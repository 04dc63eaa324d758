import { seededRng } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { loadPenguins } from "./data/penguins.ts";
import { makeDataset, splitDataset } from "./dataset.ts";
import { FL_INVALID_DATASET, FL_INVALID_TRAIN_CONFIG } from "./errors.ts";
import { initialWeights } from "./model.ts";
import { parseModelSpec } from "./modelSpec.ts";
import { rejectionCode } from "./testing.ts";
import { evaluate, trainLocal } from "./train.ts";
import { parseTrainConfig } from "./trainConfig.ts";
import { addScaled } from "./vectors.ts";

const penguins = splitDataset(loadPenguins(), 0.3, seededRng("penguins"));

describe("local training on tfjs-wasm", () => {
  it("trains a softmax logistic model on penguins from chance to > 90% accuracy", async () => {
    const spec = parseModelSpec({ kind: "logistic", inputs: 4, classes: 3 });
    const start = initialWeights(spec, "penguins");
    const before = await evaluate(spec, start, penguins.test);
    const result = await trainLocal({
      spec,
      config: parseTrainConfig({ learningRate: 0.3, batchSize: 16, epochs: 10 }),
      weights: start,
      data: penguins.train,
      seed: "penguins",
    });
    expect(result.samples).toBe(penguins.train.rows);
    expect(result.steps).toBe(10 * Math.ceil(penguins.train.rows / 16));
    const after = await evaluate(spec, addScaled(start, result.update, 1), penguins.test);
    expect(before.accuracy).toBeLessThan(0.7);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(after.loss).toBeLessThan(before.loss);
  });

  it("trains an MLP with Adam on a nonlinear (XOR-like) problem a linear model cannot fit", async () => {
    const rng = seededRng("xor");
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 600; i++) {
      const a = 2 * rng.nextFloat() - 1;
      const b = 2 * rng.nextFloat() - 1;
      rows.push([a, b]);
      labels.push(a * b > 0 ? 1 : 0);
    }
    const data = makeDataset(rows, labels, 2);
    const config = parseTrainConfig({
      optimizer: "adam",
      learningRate: 0.03,
      batchSize: 32,
      epochs: 30,
    });
    const accuracy = async (specInput: unknown): Promise<number> => {
      const spec = parseModelSpec(specInput);
      const start = initialWeights(spec, "xor");
      const r = await trainLocal({ spec, config, weights: start, data, seed: "xor" });
      return (await evaluate(spec, addScaled(start, r.update, 1), data)).accuracy;
    };
    expect(await accuracy({ kind: "logistic", inputs: 2, classes: 2 })).toBeLessThan(0.7);
    expect(await accuracy({ kind: "mlp", inputs: 2, hidden: [16], classes: 2 })).toBeGreaterThan(
      0.9,
    );
  });

  it("repeats bit for bit for the same seed, and another seed changes the batch order", async () => {
    const spec = parseModelSpec({ kind: "mlp", inputs: 4, hidden: [8], classes: 3 });
    const job = {
      spec,
      config: parseTrainConfig({ learningRate: 0.1, batchSize: 8, epochs: 2 }),
      weights: initialWeights(spec, "repeat"),
      data: penguins.train,
      seed: "repeat",
    };
    const a = await trainLocal(job);
    const b = await trainLocal(job);
    expect(Buffer.from(b.update.buffer).equals(Buffer.from(a.update.buffer))).toBe(true);
    const c = await trainLocal({ ...job, seed: "other" });
    expect(c.update).not.toEqual(a.update);
  });

  it("refuses data that does not fit the model and invalid configs", async () => {
    const spec = parseModelSpec({ kind: "logistic", inputs: 5, classes: 3 });
    const job = {
      spec,
      config: parseTrainConfig({ learningRate: 0.1, batchSize: 8, epochs: 1 }),
      weights: initialWeights(spec, "x"),
      data: penguins.train,
      seed: "x",
    };
    expect(await rejectionCode(trainLocal(job))).toBe(FL_INVALID_DATASET);
    expect(
      await rejectionCode(trainLocal({ ...job, config: { ...job.config, batchSize: 0 } })),
    ).toBe(FL_INVALID_TRAIN_CONFIG);
  });
});
