import { describe, expect, it } from "vitest";
import { FL_INVALID_MODEL_SPEC, FL_INVALID_TRAIN_CONFIG } from "./errors.ts";
import { denseLayers, MAX_MODEL_PARAMETERS, parameterCount, parseModelSpec } from "./modelSpec.ts";
import { errorCode } from "./testing.ts";
import { parseTrainConfig } from "./trainConfig.ts";

describe("parseModelSpec", () => {
  it("accepts a logistic model and counts one sigmoid unit for two classes", () => {
    const spec = parseModelSpec({ kind: "logistic", inputs: 17, classes: 2 });
    expect(denseLayers(spec)).toEqual([{ inputs: 17, units: 1, activation: "sigmoid" }]);
    expect(parameterCount(spec)).toBe(18);
  });

  it("makes a multi-class logistic model a softmax layer", () => {
    const spec = parseModelSpec({ kind: "logistic", inputs: 4, classes: 3 });
    expect(denseLayers(spec)).toEqual([{ inputs: 4, units: 3, activation: "softmax" }]);
    expect(parameterCount(spec)).toBe(15);
  });

  it("accepts an MLP, defaults its activation to relu and counts every layer", () => {
    const spec = parseModelSpec({ kind: "mlp", inputs: 784, hidden: [128], classes: 10 });
    expect(spec).toMatchObject({ activation: "relu" });
    // DESIGN's reference MLP: 784·128 + 128 + 128·10 + 10.
    expect(parameterCount(spec)).toBe(101_770);
    expect(denseLayers(spec).map((l) => l.activation)).toEqual(["relu", "softmax"]);
  });

  it("refuses malformed specs with FL_INVALID_MODEL_SPEC", () => {
    const bad: unknown[] = [
      null,
      "logistic",
      {},
      { kind: "svm", inputs: 3, classes: 2 },
      { kind: "logistic", inputs: 0, classes: 2 },
      { kind: "logistic", inputs: 2.5, classes: 2 },
      { kind: "logistic", inputs: 3, classes: 1 },
      { kind: "logistic", inputs: 3, classes: 2, hidden: [4] },
      { kind: "mlp", inputs: 3, hidden: [], classes: 2 },
      { kind: "mlp", inputs: 3, hidden: [4, 4, 4, 4, 4], classes: 2 },
      { kind: "mlp", inputs: 3, hidden: [4], activation: "gelu", classes: 2 },
      { kind: "mlp", inputs: 3, hidden: ["4"], classes: 2 },
      { kind: "mlp", inputs: 4096, hidden: [1024], classes: 2 },
    ];
    for (const spec of bad)
      expect(errorCode(() => parseModelSpec(spec))).toBe(FL_INVALID_MODEL_SPEC);
  });

  it("names the offending field and the parameter limit", () => {
    try {
      parseModelSpec({ kind: "mlp", inputs: 4096, hidden: [1024], classes: 2 });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain(`MAX_MODEL_PARAMETERS = ${MAX_MODEL_PARAMETERS}`);
    }
    try {
      parseModelSpec({ kind: "mlp", inputs: 3, hidden: [0], classes: 2 });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain("hidden.0");
    }
  });
});

describe("parseTrainConfig", () => {
  it("defaults the optimizer to SGD", () => {
    expect(parseTrainConfig({ learningRate: 0.1, batchSize: 32, epochs: 1 })).toEqual({
      optimizer: "sgd",
      learningRate: 0.1,
      batchSize: 32,
      epochs: 1,
    });
  });

  it("refuses out-of-bounds hyper-parameters with FL_INVALID_TRAIN_CONFIG", () => {
    for (const config of [
      { learningRate: 0, batchSize: 32, epochs: 1 },
      { learningRate: 0.1, batchSize: 0, epochs: 1 },
      { learningRate: 0.1, batchSize: 32, epochs: 101 },
      { learningRate: 0.1, batchSize: 32, epochs: 1, optimizer: "lbfgs" },
      { learningRate: 0.1, batchSize: 32 },
    ]) {
      expect(errorCode(() => parseTrainConfig(config))).toBe(FL_INVALID_TRAIN_CONFIG);
    }
  });
});
