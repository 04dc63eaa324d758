import { costCu } from "@dpn/protocol";
import type { JobSubmit } from "@dpn/wire";
import { count, invalidOption, type JobSpecBuilder } from "./kind.ts";

const FL_MODELS: Readonly<Record<string, Record<string, unknown>>> = {
  logistic: { kind: "logistic", inputs: 17, classes: 2 },
  mlp: { kind: "mlp", inputs: 17, hidden: [16], classes: 2 },
};

/**
 * A federated training job on the bundled flights-regions/v1 data (each device holds one US
 * region's flights; see `dpn worker --fl-data`). The node validates everything else; a bad
 * partition or model comes back with its FL_* code.
 */
export const flTrainSpec: JobSpecBuilder<"fl-train"> = {
  type: "fl-train",
  async build(_client, o) {
    const model = FL_MODELS[o.model ?? "logistic"];
    if (model === undefined) {
      throw invalidOption(
        `Unknown model ${o.model}.`,
        `Use --model ${Object.keys(FL_MODELS).join(" or ")}.`,
      );
    }
    const mode = o.mode ?? "sync";
    if (mode !== "sync" && mode !== "async") {
      throw invalidOption(
        `--mode must be sync or async, not ${mode}.`,
        "sync: FedAvg rounds; async: FedAsync, updates mixed in as they arrive.",
      );
    }
    const aggregation = o.aggregation ?? "mean";
    if (!["mean", "median", "trimmed-mean"].includes(aggregation)) {
      throw invalidOption(
        `Unknown aggregation ${aggregation}.`,
        "Use mean, median or trimmed-mean (the last two resist poisoned updates).",
      );
    }
    const partitions = (o.partitions ?? "pacific,south-atlantic,middle-atlantic,east-north-central")
      .split(",")
      .filter((p) => p !== "");
    const rounds = count(o.rounds, "--rounds", 5, 100);
    const perRound = count(o.perRound, "--per-round", Math.min(4, partitions.length), 64);
    const epsilon = o.epsilon === undefined ? undefined : Number(o.epsilon);
    if (epsilon !== undefined && !(epsilon > 0 && epsilon < 1)) {
      throw invalidOption(
        "--epsilon for training must be in (0, 1).",
        "Local DP on updates uses the Gaussian mechanism, which needs ε < 1 per update.",
      );
    }
    const samplesPerTask = 1_500;
    const spec: JobSubmit["spec"] = {
      type: "fl-train",
      dataset: "flights-regions/v1",
      partitions,
      model,
      train: { learningRate: 0.3, batchSize: 32, epochs: 1 },
      rounds,
      devicesPerRound: perRound,
      mode,
      aggregation: aggregation as "mean" | "median" | "trimmed-mean",
      topK: 0.25,
      samplesPerTask,
      ...(o.features === undefined ? {} : { features: o.features }),
      ...(epsilon === undefined
        ? {}
        : { privacy: { epsilon, delta: 1e-8, clipNorm: 1 }, maxUpdateNorm: 1_000 }),
    };
    const parameters = model.kind === "mlp" ? 17 * 16 + 16 + 16 + 1 : 18;
    const cu =
      costCu({ type: "fl-train", parameters, samples: samplesPerTask, epochs: 1 }) *
      rounds *
      perRound;
    return { spec, cu };
  },
};
