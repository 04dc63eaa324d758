import { seededRng } from "@dpn/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { loadPenguins } from "../data/penguins.ts";
import { splitDataset } from "../dataset.ts";
import { FL_INVALID_DATASET } from "../errors.ts";
import { initialWeights } from "../model.ts";
import { parseModelSpec } from "../modelSpec.ts";
import { rejectionCode } from "../testing.ts";
import { parseTrainConfig } from "../trainConfig.ts";
import { createInlineTrainer, createTrainerPool } from "./pool.ts";

const pool = createTrainerPool({ threads: 2 });
afterAll(() => pool.destroy());

const data = splitDataset(loadPenguins(), 0.5, seededRng("pool")).train;
const spec = parseModelSpec({ kind: "mlp", inputs: 4, hidden: [6], classes: 3 });
const job = {
  spec,
  config: parseTrainConfig({ learningRate: 0.2, batchSize: 10, epochs: 3 }),
  weights: initialWeights(spec, "pool"),
  data,
  seed: "pool",
};

describe("trainer pool", () => {
  it("trains in worker threads, bit-identical to training in this thread", async () => {
    const [a, b] = await Promise.all([pool.train(job), pool.train({ ...job, seed: "other" })]);
    const inline = await createInlineTrainer().train(job);
    expect(a?.steps).toBe(inline.steps);
    expect(Buffer.from(a?.update.buffer ?? []).equals(Buffer.from(inline.update.buffer))).toBe(
      true,
    );
    expect(b?.update).not.toEqual(a?.update);
  });

  it("carries a DpnError's code across the thread boundary", async () => {
    const wrongShape = {
      ...job,
      spec: parseModelSpec({ kind: "logistic", inputs: 3, classes: 3 }),
    };
    expect(await rejectionCode(pool.train(wrongShape))).toBe(FL_INVALID_DATASET);
  });
});
