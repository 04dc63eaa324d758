import type { Rng } from "@dpn/protocol";
import { DpnError } from "@dpn/protocol";
import { FLIGHT_FEATURES } from "./data/flights.ts";
import { checkDataset, type Dataset } from "./dataset.ts";
import { FL_INVALID_DATASET } from "./errors.ts";
import { type PrivacyAccountant, privatizeFeatures } from "./localDp.ts";

/**
 * Light-layer preparation of training data (docs/protocol.md §Federated learning jobs): clean a
 * partition (drop rows with a non-finite feature or a label out of range), clip every feature to
 * its declared bounds and release it under local DP — Laplace noise on the features (sensitivity
 * Σ(hi − lo)), randomised response on the labels — charged to the device's budget. Plus the wire
 * form of a released set: float32 features and int32 labels, little-endian, base64.
 */

/** Clip bounds of the flights features: one-hot departure blocks and scaled values in [0, 1]; sin/cos in [−1, 1]. */
export const FLIGHT_FEATURE_BOUNDS: ReadonlyArray<readonly [number, number]> = FLIGHT_FEATURES.map(
  (_, j): readonly [number, number] => (j >= 8 && j < 12 ? [-1, 1] : [0, 1]),
);

/** Clip bounds per example data set: penguin measurements are centred and scaled, within ±4. */
export function featureBounds(
  dataset: string,
  features: number,
): ReadonlyArray<readonly [number, number]> {
  return dataset === "penguins-islands/v1"
    ? Array.from({ length: features }, (): readonly [number, number] => [-4, 4])
    : FLIGHT_FEATURE_BOUNDS;
}

export interface FeatureRelease {
  readonly data: Dataset;
  readonly dropped: number;
}

export function cleanDataset(data: Dataset): FeatureRelease {
  const keep: number[] = [];
  for (let row = 0; row < data.rows; row++) {
    const label = data.y[row] as number;
    let ok = Number.isInteger(label) && label >= 0 && label < data.classes;
    for (let j = 0; ok && j < data.features; j++) {
      ok = Number.isFinite(data.x[row * data.features + j] as number);
    }
    if (ok) keep.push(row);
  }
  const x = new Float32Array(keep.length * data.features);
  const y = new Int32Array(keep.length);
  keep.forEach((row, i) => {
    x.set(data.x.subarray(row * data.features, (row + 1) * data.features), i * data.features);
    y[i] = data.y[row] as number;
  });
  return {
    data: checkDataset({ rows: keep.length, features: data.features, classes: data.classes, x, y }),
    dropped: data.rows - keep.length,
  };
}

export function extractPrivateFeatures(
  data: Dataset,
  privacy: { readonly featureEpsilon: number; readonly labelEpsilon?: number },
  context: {
    readonly accountant: PrivacyAccountant;
    readonly deviceId: string;
    readonly datasetId: string;
    readonly rng: Rng;
  },
): FeatureRelease {
  const cleaned = cleanDataset(data);
  const released = privatizeFeatures(
    cleaned.data,
    {
      featureEpsilon: privacy.featureEpsilon,
      ...(privacy.labelEpsilon === undefined ? {} : { labelEpsilon: privacy.labelEpsilon }),
      bounds: featureBounds(context.datasetId, data.features).map(
        ([lo, hi]) => [lo, hi] as [number, number],
      ),
    },
    context,
  );
  return { data: released, dropped: cleaned.dropped };
}

export interface EncodedFeatureSet {
  readonly rows: number;
  readonly features: number;
  readonly classes: number;
  readonly x: string;
  readonly y: string;
}

export function encodeFeatureSet(data: Dataset): EncodedFeatureSet {
  return {
    rows: data.rows,
    features: data.features,
    classes: data.classes,
    x: Buffer.from(data.x.buffer, data.x.byteOffset, data.x.byteLength).toString("base64"),
    y: Buffer.from(data.y.buffer, data.y.byteOffset, data.y.byteLength).toString("base64"),
  };
}

/** Decodes and checks a released set: sizes agree, every value finite, every label in range. */
export function decodeFeatureSet(set: EncodedFeatureSet): Dataset {
  const xBytes = Buffer.from(set.x, "base64");
  const yBytes = Buffer.from(set.y, "base64");
  if (xBytes.length !== set.rows * set.features * 4 || yBytes.length !== set.rows * 4) {
    throw new DpnError(FL_INVALID_DATASET, "The feature set's arrays do not match its shape.", {
      hint: "Send rows × features float32 values and rows int32 labels.",
      details: {
        rows: set.rows,
        features: set.features,
        xBytes: xBytes.length,
        yBytes: yBytes.length,
      },
    });
  }
  const x = new Float32Array(new Uint8Array(xBytes).buffer);
  const y = new Int32Array(new Uint8Array(yBytes).buffer);
  if (!x.every(Number.isFinite) || !y.every((label) => label >= 0 && label < set.classes)) {
    throw new DpnError(
      FL_INVALID_DATASET,
      "The feature set has a non-finite value or a label out of range.",
      {
        hint: "Release finite features and labels in [0, classes).",
      },
    );
  }
  return checkDataset({ rows: set.rows, features: set.features, classes: set.classes, x, y });
}
