import { describe, expect, it } from "vitest";
import { cellError, decodeGeohash } from "./geohash.ts";

describe("decodeGeohash", () => {
  it("decodes the Wikipedia example ezs42 to its cell centre", () => {
    const cell = decodeGeohash("ezs42");
    expect(cell?.lat).toBeCloseTo(42.60498046875, 10);
    expect(cell?.lon).toBeCloseTo(-5.60302734375, 10);
    expect(cell?.latErr).toBeCloseTo(0.02197265625, 10);
    expect(cell?.lonErr).toBeCloseTo(0.02197265625, 10);
  });

  it("decodes a long hash to within its error (u4pruydqqvj, Jutland)", () => {
    const cell = decodeGeohash("u4pruydqqvj");
    expect(cell?.lat).toBeCloseTo(57.64911, 4);
    expect(cell?.lon).toBeCloseTo(10.40744, 4);
  });

  it("puts the demo's precision-4 cells in their cities", () => {
    const places: Array<[string, number, number]> = [
      ["u33d", 52.5, 13.4], // Berlin
      ["6gyf", -23.6, -46.6], // São Paulo
      ["xn76", 35.7, 139.7], // Tokyo
      ["dr5r", 40.7, -74.0], // New York
      ["r3gx", -33.9, 151.2], // Sydney
    ];
    for (const [hash, lat, lon] of places) {
      const cell = decodeGeohash(hash);
      expect(cell, hash).toBeDefined();
      // A precision-4 cell is 0.176° high and 0.352° wide.
      expect(Math.abs((cell?.lat ?? 0) - lat), hash).toBeLessThan(0.3);
      expect(Math.abs((cell?.lon ?? 0) - lon), hash).toBeLessThan(0.4);
      expect(cell?.latErr).toBeCloseTo(180 / 2 ** 10 / 2, 12);
      expect(cell?.lonErr).toBeCloseTo(360 / 2 ** 10 / 2, 12);
    }
  });

  it("accepts upper case", () => {
    expect(decodeGeohash("U33D")).toEqual(decodeGeohash("u33d"));
  });

  it("refuses empty, over-long and non-base-32 input", () => {
    expect(decodeGeohash("")).toBeUndefined();
    expect(decodeGeohash("u".repeat(13))).toBeUndefined();
    expect(decodeGeohash("u3a")).toBeUndefined(); // "a" is not in the geohash alphabet
    expect(decodeGeohash("u3 d")).toBeUndefined();
  });
});

describe("cellError", () => {
  it("accepts four geohash characters and explains anything else", () => {
    expect(cellError("u33d")).toBeUndefined();
    expect(cellError(" U33D ")).toBeUndefined();
    expect(cellError("u33")).toMatch(/4-character geohash.*has 3/);
    expect(cellError("u3ad")).toMatch(/"a" is not a geohash character/);
  });
});
