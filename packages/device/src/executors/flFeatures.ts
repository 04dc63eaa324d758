import { randomBytes } from "node:crypto";
import { encodeFeatureSet, examplePartition, extractPrivateFeatures } from "@dpn/fl";
import { seededRng } from "@dpn/protocol";
import { accountant, loadAccount, saveAccount } from "./federated/privacyAccount.ts";
import type { Executor } from "./kind.ts";

/**
 * `fl-features`, the light layer's part of training: clean the partition held here, extract its
 * features and release them under local DP (Laplace on clipped features, randomised response on
 * labels), charged to this device's own budget first; raw rows never leave.
 */
export const flFeaturesExecutor: Executor<"fl-features"> = {
  type: "fl-features",
  async run(lease, { deviceId, stateDir }) {
    return Promise.all(
      lease.items.map(async (item) => {
        loadAccount(stateDir, deviceId);
        const release = extractPrivateFeatures(
          await examplePartition(item.dataset, item.partition),
          {
            featureEpsilon: item.featureEpsilon,
            ...(item.labelEpsilon === undefined ? {} : { labelEpsilon: item.labelEpsilon }),
          },
          {
            accountant,
            deviceId,
            datasetId: item.dataset,
            rng: seededRng(randomBytes(32).toString("hex")),
          },
        );
        saveAccount(stateDir, deviceId);
        return { ...encodeFeatureSet(release.data), dropped: release.dropped };
      }),
    );
  },
};
