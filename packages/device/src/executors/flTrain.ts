import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createTrainerPool,
  type Dataset,
  decodeFeatureSet,
  encodeUpdate,
  examplePartition,
  parseModelSpec,
  parseTrainConfig,
  privatizeUpdate,
  type Trainer,
} from "@dpn/fl";
import { seededRng } from "@dpn/protocol";
import { FeatureSetOutput } from "@dpn/wire";
import { parseLeased } from "./check.ts";
import { accountant, loadAccount, saveAccount } from "./federated/privacyAccount.ts";
import type { Executor } from "./kind.ts";

let trainer: Trainer | undefined;

/** Stops the training thread (agent shutdown). */
export async function closeFlTrainer(): Promise<void> {
  const t = trainer;
  trainer = undefined;
  await t?.destroy();
}

/**
 * `fl-train`: trains the round's global model on the partition held here (its data stays here),
 * or on a released feature set (the lease's `featureSet` artifact), in a tfjs-wasm worker thread,
 * and returns the compressed update: top-k, 8-bit quantised. With local DP the update is clipped
 * and noised here, from this device's own randomness, and charged to its own budget first
 * (DP_BUDGET_EXCEEDED, nothing released, when it would be exceeded).
 */
export const flTrainExecutor: Executor<"fl-train"> = {
  type: "fl-train",
  async run(lease, { cache, handles, deviceId, stateDir }, signal) {
    const [item] = lease.items;
    if (item === undefined || lease.items.length !== 1) throw oneItem();
    const released = lease.artifacts.featureSet;
    let data: Dataset;
    if (released !== undefined) {
      const file = await cache.acquire(released);
      handles.push(file);
      const set = parseLeased(
        FeatureSetOutput,
        JSON.parse(await readFile(file.path, "utf8")),
        "released feature set",
      );
      data = decodeFeatureSet(set);
    } else {
      data = await examplePartition(item.dataset, item.partition);
    }
    const weightBytes = Buffer.from(item.weights, "base64");
    const copy = new Uint8Array(weightBytes.length);
    copy.set(weightBytes);
    trainer ??= createTrainerPool({ threads: 1 });
    const result = await trainer.train(
      {
        spec: parseModelSpec(item.model),
        config: parseTrainConfig(item.train),
        weights: new Float32Array(copy.buffer),
        data,
        seed: item.seed,
      },
      signal,
    );
    let update = result.update;
    if (item.privacy !== undefined) {
      loadAccount(stateDir, deviceId);
      update = privatizeUpdate(result.update, item.privacy, {
        accountant,
        deviceId,
        datasetId: item.dataset,
        // Fresh randomness: noise derived from the job's seed could be subtracted by the node.
        rng: seededRng(randomBytes(32).toString("hex")),
      }).update;
      saveAccount(stateDir, deviceId);
    }
    const encoded = encodeUpdate(
      update,
      item.topK >= 1 ? { kind: "quantize8" } : { kind: "topk+quantize8", fraction: item.topK },
    );
    return [
      {
        update: Buffer.from(encoded.bytes).toString("base64"),
        samples: result.samples,
        meanLoss: result.meanLoss,
        bytesBefore: encoded.bytesBefore,
        bytesAfter: encoded.bytesAfter,
      },
    ];
  },
};

function oneItem(): Error {
  return new Error("a training lease carries exactly one item");
}
