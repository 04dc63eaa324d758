import { DpnError, seededRng } from "@dpn/protocol";
import { type Dataset, selectRows, shuffledIndices } from "../dataset.ts";
import { FL_INVALID_DATASET } from "../errors.ts";
import { loadFlights, partitionByRegion, REGIONS, type Region } from "./flights.ts";
import { loadPenguinsWithIslands } from "./penguins.ts";

/**
 * The example data set of `fl-train` jobs, `flights-regions/v1`: a fixed, balanced sample of
 * flights-3m split once into a test set (the requester's validation data, which the node
 * evaluates the global model on) and one training partition per US Census region (the data each
 * device holds: non-IID, sizes differ by region). Every party derives the same split from the
 * same recipe, so a device that holds "south" trains on exactly the rows the job means by it,
 * and no raw row ever travels: devices send model updates, the node reads only the test set.
 */
export const REGIONAL_FLIGHTS = "flights-regions/v1";
const RECIPE = { rows: 12_000, testRows: 3_000, seed: "dpn/flights-regions/v1" } as const;

export interface RegionalFlights {
  readonly test: Dataset;
  /** By partition id: the region's name in lower case with hyphens ("south-atlantic"). */
  readonly partitions: ReadonlyMap<string, Dataset>;
}

export function partitionId(region: Region): string {
  return region.toLowerCase().replace(/ /g, "-");
}

let loaded: Promise<RegionalFlights> | undefined;

/** Loads (once per process) the test set and every region's partition. */
export function loadRegionalFlights(): Promise<RegionalFlights> {
  loaded ??= (async () => {
    const flights = await loadFlights({ rows: RECIPE.rows, seed: RECIPE.seed, balanced: true });
    const order = shuffledIndices(flights.dataset.rows, seededRng(`${RECIPE.seed}/split`));
    const test = selectRows(flights.dataset, order.subarray(0, RECIPE.testRows));
    const trainRows = order.subarray(RECIPE.testRows);
    const train = {
      dataset: selectRows(flights.dataset, trainRows),
      region: Uint8Array.from(trainRows, (row) => flights.region[row] as number),
      sourceRow: flights.sourceRow,
    };
    const partitions = new Map<string, Dataset>();
    for (const part of partitionByRegion(train, 1)) {
      partitions.set(partitionId(part.region), selectRows(train.dataset, part.rows));
    }
    return { test, partitions };
  })();
  return loaded;
}

/**
 * The second example data set, `penguins-islands/v1`: the Palmer penguins partitioned by the
 * island they were measured on (Biscoe, Dream, Torgersen: strongly non-IID, Gentoos live on
 * Biscoe only), a quarter of the birds held out as the validation set.
 */
export const PENGUIN_ISLANDS = "penguins-islands/v1";

let penguins: RegionalFlights | undefined;

function loadPenguinIslands(): RegionalFlights {
  if (penguins !== undefined) return penguins;
  const { dataset, island } = loadPenguinsWithIslands();
  const order = shuffledIndices(dataset.rows, seededRng("dpn/penguins-islands/v1/split"));
  const testRows = Math.floor(dataset.rows / 4);
  const test = selectRows(dataset, order.subarray(0, testRows));
  const byIsland = new Map<string, number[]>();
  for (const row of order.subarray(testRows)) {
    const id = (island[row] ?? "unknown").toLowerCase();
    byIsland.set(id, [...(byIsland.get(id) ?? []), row]);
  }
  const partitions = new Map<string, Dataset>();
  for (const [id, rows] of [...byIsland].sort(([a], [b]) => (a < b ? -1 : 1))) {
    partitions.set(id, selectRows(dataset, rows));
  }
  penguins = { test, partitions };
  return penguins;
}

/** The example data sets a device may hold and a job may name. */
export const EXAMPLE_DATASETS = [REGIONAL_FLIGHTS, PENGUIN_ISLANDS] as const;
export type ExampleDataset = (typeof EXAMPLE_DATASETS)[number];

/** An example data set's validation set and partitions, by id. */
export async function loadExampleDataset(id: string): Promise<RegionalFlights> {
  if (id === REGIONAL_FLIGHTS) return loadRegionalFlights();
  if (id === PENGUIN_ISLANDS) return loadPenguinIslands();
  throw new DpnError(FL_INVALID_DATASET, `There is no example data set "${id}".`, {
    hint: `Use one of ${EXAMPLE_DATASETS.join(", ")}.`,
  });
}

/** One partition of an example data set, or a coded error naming the valid ones. */
export async function examplePartition(id: string, partition: string): Promise<Dataset> {
  const data = await loadExampleDataset(id);
  const found = data.partitions.get(partition);
  if (found === undefined) {
    throw new DpnError(FL_INVALID_DATASET, `${id} has no partition "${partition}".`, {
      hint: `Use one of ${[...data.partitions.keys()].join(", ")}.`,
    });
  }
  return found;
}

/** A data-holding claim as devices register it: `flights-regions/v1:south`. */
export function holdingId(dataset: string, partition: string): string {
  return `${dataset}:${partition}`;
}

/** The partition a device holds, or a coded error naming the valid ones. */
export async function regionalPartition(partition: string): Promise<Dataset> {
  const data = await loadRegionalFlights();
  const found = data.partitions.get(partition);
  if (found === undefined) {
    throw new DpnError(FL_INVALID_DATASET, `${REGIONAL_FLIGHTS} has no partition "${partition}".`, {
      hint: `Use one of ${[...data.partitions.keys()].join(", ")} (US Census regions of ${REGIONS.length} in all).`,
    });
  }
  return found;
}
