import { seededRng } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import {
  checkDataset,
  classShares,
  concatDatasets,
  makeDataset,
  selectRows,
  shuffledIndices,
  splitDataset,
} from "./dataset.ts";
import { FL_INVALID_DATASET } from "./errors.ts";
import { errorCode } from "./testing.ts";

const data = makeDataset(
  [
    [0, 1],
    [2, 3],
    [4, 5],
    [6, 7],
  ],
  [0, 1, 1, 1],
  2,
);

describe("data sets", () => {
  it("selects, concatenates and counts rows", () => {
    const picked = selectRows(data, [3, 0]);
    expect(Array.from(picked.x)).toEqual([6, 7, 0, 1]);
    expect(Array.from(picked.y)).toEqual([1, 0]);
    const both = concatDatasets([picked, data]);
    expect(both.rows).toBe(6);
    expect(classShares(data)).toEqual([0.25, 0.75]);
  });

  it("splits into disjoint train and test sets with a seeded permutation", () => {
    const order = shuffledIndices(100, seededRng("p"));
    expect([...order].sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    expect(shuffledIndices(100, seededRng("p"))).toEqual(order);
    const { train, test } = splitDataset(data, 0.25, seededRng("s"));
    expect(train.rows + test.rows).toBe(4);
    expect(test.rows).toBe(1);
  });

  it("refuses shapes that do not add up and labels outside the classes", () => {
    const base = { rows: 2, features: 2, classes: 2, x: new Float32Array(4), y: new Int32Array(2) };
    expect(errorCode(() => checkDataset(base))).toBeUndefined();
    for (const bad of [
      { ...base, x: new Float32Array(3) },
      { ...base, y: Int32Array.from([0, 2]) },
      { ...base, x: Float32Array.from([0, 0, Number.NaN, 0]) },
      { ...base, classes: 1 },
      { ...base, y: [0, 1] as never },
    ]) {
      expect(errorCode(() => checkDataset(bad))).toBe(FL_INVALID_DATASET);
    }
    expect(errorCode(() => makeDataset([[1, 2], [3]], [0, 1], 2))).toBe(FL_INVALID_DATASET);
  });
});
