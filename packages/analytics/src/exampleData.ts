import { fileURLToPath } from "node:url";

/**
 * Real example data shipped in the `vega-datasets` npm package (BSD-3-Clause), read from
 * node_modules: nothing is downloaded. flights-3m.parquet holds 3,000,000 US domestic flights of
 * Jan–Jun 2001 (columns date TIMESTAMP, delay BIGINT minutes, distance BIGINT miles, origin and
 * destination VARCHAR airport codes); airports.csv their airports (iata, name, city, state,
 * country, latitude, longitude).
 */
const DATA_DIR = new URL("../data/", import.meta.resolve("vega-datasets"));

export const FLIGHTS_3M_PARQUET = fileURLToPath(new URL("flights-3m.parquet", DATA_DIR));
export const FLIGHTS_3M_ROWS = 3_000_000;
export const AIRPORTS_CSV = fileURLToPath(new URL("airports.csv", DATA_DIR));
