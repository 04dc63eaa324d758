import { describe, expect, it } from "vitest";
import { FL_UPDATE_SHAPE_MISMATCH } from "./errors.ts";
import { buildModel, getFlatWeights, initialWeights, setFlatWeights } from "./model.ts";
import { denseLayers, parameterCount, parseModelSpec } from "./modelSpec.ts";
import { errorCode } from "./testing.ts";
import { loadTf } from "./tfBackend.ts";

const mlp = parseModelSpec({
  kind: "mlp",
  inputs: 5,
  hidden: [7, 3],
  activation: "tanh",
  classes: 4,
});

describe("models", () => {
  it("draws the same Glorot-uniform weights for a seed, zero biases, within the limit", () => {
    const a = initialWeights(mlp, "job-1");
    expect(initialWeights(mlp, "job-1")).toEqual(a);
    expect(initialWeights(mlp, "job-2")).not.toEqual(a);
    let at = 0;
    for (const layer of denseLayers(mlp)) {
      const limit = Math.sqrt(6 / (layer.inputs + layer.units));
      const kernel = a.subarray(at, at + layer.inputs * layer.units);
      expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(limit);
      expect(kernel.some((w) => w !== 0)).toBe(true);
      at += kernel.length;
      expect(Array.from(a.subarray(at, at + layer.units))).toEqual(new Array(layer.units).fill(0));
      at += layer.units;
    }
    expect(at).toBe(parameterCount(mlp));
  });

  it("builds a tfjs layers model on the wasm backend whose flat weights round-trip", async () => {
    const handlers = process.listenerCount("unhandledRejection");
    const tf = await loadTf();
    // Emscripten's rethrowing process handlers are removed: the host keeps its own policy.
    expect(process.listenerCount("unhandledRejection")).toBe(handlers);
    expect(tf.getBackend()).toBe("wasm");
    const model = buildModel(tf, mlp);
    expect(model.layers.map((l) => l.getConfig().units)).toEqual([7, 3, 4]);
    const weights = initialWeights(mlp, "round-trip");
    setFlatWeights(tf, model, weights);
    expect(getFlatWeights(model)).toEqual(weights);
    // Layout: the first kernel is [inputs × units] row-major, as tfjs stores it.
    const kernel = model.layers[0]?.getWeights()[0];
    if (kernel === undefined) throw new Error("the first layer has no kernel");
    expect(kernel.shape).toEqual([5, 7]);
    expect((kernel.arraySync() as number[][])[1]?.[0]).toBeCloseTo(weights[7] as number, 7);
    expect(errorCode(() => setFlatWeights(tf, model, new Float32Array(3)))).toBe(
      FL_UPDATE_SHAPE_MISMATCH,
    );
    model.dispose();
  });
});
