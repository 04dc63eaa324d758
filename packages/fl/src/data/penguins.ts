import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DpnError } from "@dpn/protocol";
import { checkDataset, type Dataset } from "../dataset.ts";
import { FL_DATA_UNAVAILABLE } from "../errors.ts";

/**
 * Palmer penguins (`penguins.json` in the `vega-datasets` npm package, CC0): 344 birds, three
 * species, from beak, flipper and mass measurements. Small enough for fast multi-class tests.
 * Rows missing a measurement are skipped; features are scaled by fixed constants.
 */
export const PENGUINS_JSON = fileURLToPath(
  new URL("../data/penguins.json", import.meta.resolve("vega-datasets")),
);

export const PENGUIN_SPECIES = ["Adelie", "Chinstrap", "Gentoo"] as const;
export const PENGUIN_FEATURES = [
  "beak length",
  "beak depth",
  "flipper length",
  "body mass",
] as const;

interface PenguinRecord {
  readonly Species?: unknown;
  readonly Island?: unknown;
  readonly "Beak Length (mm)"?: unknown;
  readonly "Beak Depth (mm)"?: unknown;
  readonly "Flipper Length (mm)"?: unknown;
  readonly "Body Mass (g)"?: unknown;
}

/** Fixed centring and scale per feature (about the species-pooled mean and spread). */
const SCALE: readonly (readonly [keyof PenguinRecord, number, number])[] = [
  ["Beak Length (mm)", 44, 5.5],
  ["Beak Depth (mm)", 17, 2],
  ["Flipper Length (mm)", 200, 14],
  ["Body Mass (g)", 4200, 800],
];

export function loadPenguins(): Dataset {
  return loadPenguinsWithIslands().dataset;
}

/** The penguins and the island each was measured on (Biscoe, Dream, Torgersen). */
export function loadPenguinsWithIslands(): { dataset: Dataset; island: string[] } {
  let records: PenguinRecord[];
  try {
    records = JSON.parse(readFileSync(PENGUINS_JSON, "utf8")) as PenguinRecord[];
  } catch (error) {
    throw new DpnError(FL_DATA_UNAVAILABLE, `Could not read ${PENGUINS_JSON}.`, {
      hint: "Run npm install: the file ships in the vega-datasets package.",
      cause: error,
    });
  }
  const x: number[] = [];
  const y: number[] = [];
  const island: string[] = [];
  for (const record of records) {
    const species = PENGUIN_SPECIES.indexOf(record.Species as (typeof PENGUIN_SPECIES)[number]);
    const values = SCALE.map(([field, centre, scale]) => {
      const value = record[field];
      return typeof value === "number" ? (value - centre) / scale : Number.NaN;
    });
    if (species < 0 || values.some((v) => !Number.isFinite(v))) continue;
    x.push(...values);
    y.push(species);
    island.push(typeof record.Island === "string" ? record.Island : "unknown");
  }
  return {
    dataset: checkDataset({
      rows: y.length,
      features: SCALE.length,
      classes: PENGUIN_SPECIES.length,
      x: Float32Array.from(x),
      y: Int32Array.from(y),
    }),
    island,
  };
}
