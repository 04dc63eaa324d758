import { DpnError, type Rng } from "@dpn/protocol";
import { FL_INVALID_DATASET } from "./errors.ts";

/**
 * A labelled tabular data set held by one device (or the union, for a centralised baseline):
 * `rows` examples of `features` float32 features, row-major, and one class index per row.
 */
export interface Dataset {
  readonly rows: number;
  readonly features: number;
  readonly classes: number;
  /** rows × features, row-major. */
  readonly x: Float32Array;
  /** Class index per row, in [0, classes). */
  readonly y: Int32Array;
}

/** Rows one device may hold in one training job: 4 M floats at 16 features is 64 MiB of x. */
export const MAX_DATASET_ROWS = 1_000_000;

/** Checks that the arrays match the declared shape and labels are classes; returns the set. */
export function checkDataset(data: Dataset): Dataset {
  const fail = (message: string): never => {
    throw new DpnError(FL_INVALID_DATASET, message, {
      hint: "Build data sets with makeDataset or a loader of this package.",
      details: { rows: data.rows, features: data.features, classes: data.classes },
    });
  };
  if (!Number.isSafeInteger(data.rows) || data.rows < 0 || data.rows > MAX_DATASET_ROWS) {
    fail(`A data set must have 0 to ${MAX_DATASET_ROWS} rows, got ${data.rows}.`);
  }
  if (!Number.isSafeInteger(data.features) || data.features < 1) {
    fail(`A data set must have at least one feature, got ${data.features}.`);
  }
  if (!Number.isSafeInteger(data.classes) || data.classes < 2) {
    fail(`A data set must have at least two classes, got ${data.classes}.`);
  }
  if (!(data.x instanceof Float32Array) || data.x.length !== data.rows * data.features) {
    fail(`x must be a Float32Array of rows × features = ${data.rows * data.features} values.`);
  }
  if (!(data.y instanceof Int32Array) || data.y.length !== data.rows) {
    fail(`y must be an Int32Array of ${data.rows} labels.`);
  }
  for (let i = 0; i < data.x.length; i++) {
    if (!Number.isFinite(data.x[i] as number)) fail(`x[${i}] is not finite.`);
  }
  for (let i = 0; i < data.y.length; i++) {
    const label = data.y[i] as number;
    if (label < 0 || label >= data.classes) {
      fail(`Label ${label} of row ${i} is not a class in [0, ${data.classes}).`);
    }
  }
  return data;
}

/** A checked data set from rows of features and labels. */
export function makeDataset(
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  classes: number,
): Dataset {
  const features = rows[0]?.length ?? 0;
  const x = new Float32Array(rows.length * features);
  rows.forEach((row, i) => {
    if (row.length !== features) {
      throw new DpnError(
        FL_INVALID_DATASET,
        `Row ${i} has ${row.length} features, not ${features}.`,
      );
    }
    x.set(row, i * features);
  });
  return checkDataset({ rows: rows.length, features, classes, x, y: Int32Array.from(labels) });
}

/** The rows at `indices`, in that order. */
export function selectRows(data: Dataset, indices: ArrayLike<number>): Dataset {
  const f = data.features;
  const x = new Float32Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i] as number;
    x.set(data.x.subarray(row * f, row * f + f), i * f);
    y[i] = data.y[row] as number;
  }
  return { rows: indices.length, features: f, classes: data.classes, x, y };
}

/** All rows of several data sets with the same shape, in order. */
export function concatDatasets(parts: readonly Dataset[]): Dataset {
  const first = parts[0];
  if (first === undefined) {
    throw new DpnError(FL_INVALID_DATASET, "Cannot concatenate zero data sets.");
  }
  let rows = 0;
  for (const part of parts) {
    if (part.features !== first.features || part.classes !== first.classes) {
      throw new DpnError(
        FL_INVALID_DATASET,
        "Concatenated data sets must share features and classes.",
      );
    }
    rows += part.rows;
  }
  const x = new Float32Array(rows * first.features);
  const y = new Int32Array(rows);
  let at = 0;
  for (const part of parts) {
    x.set(part.x, at * first.features);
    y.set(part.y, at);
    at += part.rows;
  }
  return { rows, features: first.features, classes: first.classes, x, y };
}

/** A uniformly random permutation of 0…n−1 (Fisher–Yates on the seeded Rng). */
export function shuffledIndices(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}

/** Splits rows at random into a test share and the rest (the training set). */
export function splitDataset(
  data: Dataset,
  testFraction: number,
  rng: Rng,
): { train: Dataset; test: Dataset } {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new DpnError(FL_INVALID_DATASET, `testFraction must be in (0, 1), got ${testFraction}.`);
  }
  const order = shuffledIndices(data.rows, rng);
  const testRows = Math.round(data.rows * testFraction);
  return {
    test: selectRows(data, order.subarray(0, testRows)),
    train: selectRows(data, order.subarray(testRows)),
  };
}

/** Share of rows per class, for reports and for the majority-class baseline. */
export function classShares(data: Dataset): number[] {
  const counts = new Array<number>(data.classes).fill(0);
  for (const label of data.y) counts[label] = (counts[label] ?? 0) + 1;
  return counts.map((count) => (data.rows === 0 ? 0 : count / data.rows));
}
