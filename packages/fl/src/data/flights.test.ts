import { describe, expect, it } from "vitest";
import { classShares, selectRows } from "../dataset.ts";
import {
  FLIGHT_FEATURES,
  loadFlights,
  partitionByRegion,
  REGIONS,
  regionOfState,
} from "./flights.ts";

describe("flights", () => {
  it("samples the same flights with the same features for a seed, all bounded", async () => {
    const a = await loadFlights({ rows: 2000, seed: "test" });
    const b = await loadFlights({ rows: 2000, seed: "test" });
    expect(a.dataset.rows).toBeGreaterThan(1980); // a few flights lack airport coordinates
    expect(a.dataset.features).toBe(FLIGHT_FEATURES.length);
    expect(b.sourceRow).toEqual(a.sourceRow);
    expect(b.dataset.x).toEqual(a.dataset.x);
    expect(Math.max(...a.dataset.x.map(Math.abs))).toBeLessThanOrEqual(1);
    // Exactly one three-hour departure block is set per row.
    for (let row = 0; row < 50; row++) {
      const blocks = a.dataset.x.subarray(row * 17, row * 17 + 8);
      expect(blocks.reduce((s, v) => s + v, 0)).toBe(1);
    }
    // About one flight in five leaves more than 15 minutes late (19.97% of all 3M rows).
    expect(classShares(a.dataset)[1]).toBeGreaterThan(0.16);
    expect(classShares(a.dataset)[1]).toBeLessThan(0.24);
    const other = await loadFlights({ rows: 2000, seed: "other" });
    expect(other.sourceRow).not.toEqual(a.sourceRow);
  });

  it("balances late and on-time flights on request", async () => {
    const data = await loadFlights({ rows: 1000, seed: "test", balanced: true });
    expect(data.dataset.rows).toBe(1000);
    expect(classShares(data.dataset)).toEqual([0.5, 0.5]);
  });

  it("partitions by origin region into non-IID devices of unequal size", async () => {
    const data = await loadFlights({ rows: 4000, seed: "test", balanced: true });
    const parts = partitionByRegion(data, 2);
    expect(parts.reduce((n, p) => n + p.rows.length, 0)).toBe(data.dataset.rows);
    const sizes = parts.map((p) => p.rows.length);
    expect(Math.max(...sizes)).toBeGreaterThan(3 * Math.min(...sizes));
    // Origin longitude (feature 14) separates the regions' devices: Pacific vs New England.
    const meanLongitude = (region: string): number => {
      const rows = parts.filter((p) => p.region === region).flatMap((p) => Array.from(p.rows));
      const subset = selectRows(data.dataset, rows);
      let sum = 0;
      for (let i = 0; i < subset.rows; i++) sum += subset.x[i * 17 + 14] as number;
      return sum / subset.rows;
    };
    expect(meanLongitude("New England") - meanLongitude("Pacific")).toBeGreaterThan(0.3);
    expect(regionOfState("MA")).toBe("New England");
    expect(regionOfState("PR")).toBe("Territories");
    expect(new Set(parts.map((p) => p.region)).size).toBeLessThanOrEqual(REGIONS.length);
  });
});
