import { DpnError, seededRng } from "@dpn/protocol";
import { type Dataset, selectRows, shuffledIndices } from "../dataset.ts";
import { FL_INVALID_DATASET } from "../errors.ts";
import { loadFlights, partitionByRegion, REGIONS, type Region } from "./flights.ts";

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
