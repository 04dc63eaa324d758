import { fileURLToPath } from "node:url";
import { DpnError, seededRng } from "@dpn/protocol";
import { DuckDBInstance } from "@duckdb/node-api";
import { checkDataset, type Dataset } from "../dataset.ts";
import { FL_DATA_UNAVAILABLE, FL_INVALID_DATASET } from "../errors.ts";

/**
 * The example task: will a US domestic flight leave more than 15 minutes late? Rows come from
 * `flights-3m.parquet` in the `vega-datasets` npm package (3,000,000 flights, Jan–Jun 2001, U.S.
 * Bureau of Transportation Statistics), read with DuckDB (@duckdb/node-api); airport coordinates
 * and states from the package's `airports.csv`. Nothing is downloaded.
 *
 * Each flight becomes FLIGHT_FEATURES bounded features computed from fixed constants (no statistic
 * of the data), so every device scales its own rows identically without sharing anything.
 * Devices are partitioned by the origin airport's US Census division: each region's traffic,
 * hours and distances differ, so partitions are non-IID and unequal in size, as real regional
 * data holders would be.
 */

const DATA_DIR = new URL("../data/", import.meta.resolve("vega-datasets"));
export const FLIGHTS_PARQUET = fileURLToPath(new URL("flights-3m.parquet", DATA_DIR));
export const AIRPORTS_CSV = fileURLToPath(new URL("airports.csv", DATA_DIR));
/** Rows in flights-3m.parquet. */
export const FLIGHTS_ROWS = 3_000_000;
/** Most rows one load may sample; 200k flights are 14 MiB of features, ample for any experiment. */
export const MAX_FLIGHT_SAMPLE = 200_000;

export const FLIGHT_FEATURES = [
  "dep 00-03h",
  "dep 03-06h",
  "dep 06-09h",
  "dep 09-12h",
  "dep 12-15h",
  "dep 15-18h",
  "dep 18-21h",
  "dep 21-24h",
  "weekday sin",
  "weekday cos",
  "day of year sin",
  "day of year cos",
  "log distance",
  "origin latitude",
  "origin longitude",
  "destination latitude",
  "destination longitude",
] as const;

/** US Census divisions (census.gov), plus territories; the partition key of the example. */
export const REGIONS = [
  "New England",
  "Middle Atlantic",
  "East North Central",
  "West North Central",
  "South Atlantic",
  "East South Central",
  "West South Central",
  "Mountain",
  "Pacific",
  "Territories",
] as const;
export type Region = (typeof REGIONS)[number];

const STATE_REGION: Readonly<Record<string, Region>> = Object.fromEntries(
  (
    [
      ["New England", "CT ME MA NH RI VT"],
      ["Middle Atlantic", "NJ NY PA"],
      ["East North Central", "IL IN MI OH WI"],
      ["West North Central", "IA KS MN MO NE ND SD"],
      ["South Atlantic", "DE DC FL GA MD NC SC VA WV"],
      ["East South Central", "AL KY MS TN"],
      ["West South Central", "AR LA OK TX"],
      ["Mountain", "AZ CO ID MT NV NM UT WY"],
      ["Pacific", "AK CA HI OR WA"],
    ] as const
  ).flatMap(([region, states]) => states.split(" ").map((state) => [state, region])),
);

export function regionOfState(state: string): Region {
  return STATE_REGION[state] ?? "Territories";
}

export interface FlightOptions {
  /** Flights to sample (without replacement, by the seeded Rng). */
  readonly rows: number;
  readonly seed: string;
  /** A flight is late when its delay exceeds this many minutes (default 15, the BTS definition). */
  readonly lateAfterMin?: number;
  /**
   * Sample as many late flights as on-time ones. One flight in five is late, so on the natural
   * mix "always on time" scores 80% and accuracy hides learning; balanced, chance is 50%.
   */
  readonly balanced?: boolean;
}

export interface FlightData {
  readonly dataset: Dataset;
  /** Index into REGIONS of each row's origin airport. */
  readonly region: Uint8Array;
  /** Row number in flights-3m.parquet of each row (for audits). */
  readonly sourceRow: Uint32Array;
}

/** Candidates drawn per requested row when balancing: late flights are ~20%, so 3× is ample. */
const BALANCE_OVERSAMPLE = 3;

/**
 * Loads a deterministic sample of flights: the same rows, features and order for the same
 * options on any machine. Row numbers are chosen by seededRng and joined to the Parquet file's
 * row numbers in DuckDB; flights whose airports lack coordinates are skipped.
 */
export async function loadFlights(options: FlightOptions): Promise<FlightData> {
  const { rows, seed } = options;
  const lateAfterMin = options.lateAfterMin ?? 15;
  const balanced = options.balanced ?? false;
  if (!Number.isSafeInteger(rows) || rows < 2 || rows > MAX_FLIGHT_SAMPLE) {
    throw new DpnError(
      FL_INVALID_DATASET,
      `rows must be an integer in [2, ${MAX_FLIGHT_SAMPLE}], got ${rows}.`,
    );
  }
  const rng = seededRng(`fl/flights/${seed}`);
  const candidates = Math.min(FLIGHTS_ROWS, balanced ? rows * BALANCE_OVERSAMPLE : rows);
  // The first `candidates` entries of a partial Fisher–Yates over all row numbers.
  const picked = sampleWithoutReplacement(FLIGHTS_ROWS, candidates, rng);

  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(":memory:", { threads: "1" });
  } catch (error) {
    throw new DpnError(FL_DATA_UNAVAILABLE, "DuckDB could not start.", { cause: error });
  }
  let connection: Awaited<ReturnType<DuckDBInstance["connect"]>> | undefined;
  try {
    connection = await instance.connect();
    await connection.run("CREATE TEMP TABLE pick (ord INTEGER, row_number BIGINT)");
    const appender = await connection.createAppender("pick");
    picked.forEach((row, ord) => {
      appender.appendInteger(ord);
      appender.appendBigInt(BigInt(row));
      appender.endRow();
    });
    appender.closeSync();
    const result = await connection.runAndReadAll(`
      WITH airports AS (
        SELECT iata, state, TRY_CAST(latitude AS DOUBLE) AS lat, TRY_CAST(longitude AS DOUBLE) AS lon
        FROM read_csv('${sqlString(AIRPORTS_CSV)}', header = true, all_varchar = true)
      )
      SELECT p.row_number::INTEGER AS source_row,
             hour(f.date)::INTEGER AS hour, dayofweek(f.date)::INTEGER AS weekday,
             dayofyear(f.date)::INTEGER AS day_of_year,
             f.distance::DOUBLE AS distance, f.delay::DOUBLE AS delay,
             o.state AS origin_state, o.lat AS olat, o.lon AS olon, d.lat AS dlat, d.lon AS dlon
      FROM pick p
      JOIN read_parquet('${sqlString(FLIGHTS_PARQUET)}', file_row_number = true) f
        ON f.file_row_number = p.row_number
      JOIN airports o ON o.iata = f.origin
      JOIN airports d ON d.iata = f.destination
      WHERE f.delay IS NOT NULL AND f.distance > 0 AND o.lat IS NOT NULL AND d.lat IS NOT NULL
      ORDER BY p.ord`);
    const c = result.getColumnsObjectJS() as Record<string, (number | string | null)[]>;
    const n = result.currentRowCount;
    const late = (c.delay ?? []).map((delay) => ((delay as number) > lateAfterMin ? 1 : 0));
    const chosen = chooseRows(late, rows, balanced);
    const f = FLIGHT_FEATURES.length;
    const x = new Float32Array(chosen.length * f);
    const y = new Int32Array(chosen.length);
    const region = new Uint8Array(chosen.length);
    const sourceRow = new Uint32Array(chosen.length);
    chosen.forEach((i, out) => {
      if (i >= n) throw new Error("row index beyond the query result");
      const at = (name: string): number => c[name]?.[i] as number;
      const row = x.subarray(out * f, out * f + f);
      row[Math.floor(at("hour") / 3)] = 1;
      const weekday = (2 * Math.PI * at("weekday")) / 7;
      row[8] = Math.sin(weekday);
      row[9] = Math.cos(weekday);
      const season = (2 * Math.PI * at("day_of_year")) / 365.25;
      row[10] = Math.sin(season);
      row[11] = Math.cos(season);
      // The longest US domestic route (HNL–BOS, HNL–JFK) is about 5,100 miles.
      row[12] = clamp01(Math.log(at("distance")) / Math.log(5200));
      row[13] = latitude01(at("olat"));
      row[14] = longitude01(at("olon"));
      row[15] = latitude01(at("dlat"));
      row[16] = longitude01(at("dlon"));
      y[out] = late[i] as number;
      region[out] = REGIONS.indexOf(regionOfState(String(c.origin_state?.[i])));
      sourceRow[out] = at("source_row");
    });
    return {
      dataset: checkDataset({ rows: chosen.length, features: f, classes: 2, x, y }),
      region,
      sourceRow,
    };
  } catch (error) {
    if (error instanceof DpnError) throw error;
    throw new DpnError(FL_DATA_UNAVAILABLE, `Could not read ${FLIGHTS_PARQUET}.`, {
      hint: "Run npm install: the file ships in the vega-datasets package.",
      cause: error,
    });
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

/**
 * Splits flights into devices by origin region: each region's rows, in their (random) order, are
 * dealt round-robin to `devicesPerRegion` devices. Regions without rows get no device.
 */
export function partitionByRegion(
  data: FlightData,
  devicesPerRegion: number,
): { region: Region; rows: Uint32Array }[] {
  if (!Number.isSafeInteger(devicesPerRegion) || devicesPerRegion < 1) {
    throw new DpnError(FL_INVALID_DATASET, "devicesPerRegion must be a positive integer.");
  }
  const byRegion = REGIONS.map(() => [] as number[]);
  data.region.forEach((r, row) => {
    byRegion[r]?.push(row);
  });
  const parts: { region: Region; rows: Uint32Array }[] = [];
  byRegion.forEach((rows, r) => {
    if (rows.length === 0) return;
    for (let d = 0; d < devicesPerRegion; d++) {
      const mine = rows.filter((_, i) => i % devicesPerRegion === d);
      if (mine.length > 0)
        parts.push({ region: REGIONS[r] as Region, rows: Uint32Array.from(mine) });
    }
  });
  return parts;
}

function chooseRows(late: readonly number[], rows: number, balanced: boolean): number[] {
  if (!balanced) return late.slice(0, rows).map((_, i) => i);
  const half = [Math.ceil(rows / 2), Math.floor(rows / 2)];
  const chosen: number[] = [];
  late.forEach((label, i) => {
    const left = half[label] as number;
    if (left > 0) {
      chosen.push(i);
      half[label] = left - 1;
    }
  });
  return chosen;
}

function sampleWithoutReplacement(
  population: number,
  count: number,
  rng: ReturnType<typeof seededRng>,
): number[] {
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const j = i + rng.nextInt(population - i);
    const atJ = swapped.get(j) ?? j;
    const atI = swapped.get(i) ?? i;
    swapped.set(j, atI);
    out.push(atJ);
  }
  return out;
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** US airports lie between 13°N (Guam) and 72°N (Alaska); Territories' outliers clamp. */
function latitude01(lat: number): number {
  return clamp01((lat - 13) / 59);
}

/** …and between 180°W (Alaska) and 64°W (US Virgin Islands). */
function longitude01(lon: number): number {
  return clamp01((lon + 180) / 116);
}

function sqlString(path: string): string {
  return path.replaceAll("'", "''");
}
