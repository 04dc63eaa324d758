import { describe, expect, it } from "vitest";
import { makeDataset } from "../dataset.ts";
import { FL_INVALID_SIMULATION } from "../errors.ts";
import { errorCode } from "../testing.ts";
import { makeFleet } from "./fleet.ts";

const parts = Array.from({ length: 10 }, () => makeDataset([[0], [1]], [0, 1], 2));
const options = {
  seed: "fleet",
  minSpeedCuPerS: 2,
  speedSpread: 10,
  uplinkBytesPerS: 1e6,
  latencyS: 0.1,
};

describe("simulated fleet", () => {
  it("spaces speeds geometrically over a 10× spread, in a seeded order", () => {
    const fleet = makeFleet(parts, options);
    const speeds = fleet.map((d) => d.speedCuPerS);
    const sorted = [...speeds].sort((a, b) => a - b);
    expect(sorted[0]).toBeCloseTo(2, 12);
    expect(sorted[9]).toBeCloseTo(20, 12);
    for (let i = 1; i < 10; i++) {
      expect((sorted[i] as number) / (sorted[i - 1] as number)).toBeCloseTo(10 ** (1 / 9), 12);
    }
    expect(speeds).not.toEqual(sorted); // not in data order
    expect(makeFleet(parts, options).map((d) => d.speedCuPerS)).toEqual(speeds);
  });

  it("makes the requested share of devices malicious", () => {
    const fleet = makeFleet(parts, {
      ...options,
      maliciousFraction: 0.2,
      attack: { kind: "signFlip", scale: 4 },
    });
    expect(fleet.filter((d) => d.attack !== undefined)).toHaveLength(2);
  });

  it("refuses an empty fleet and nonsense parameters", () => {
    expect(errorCode(() => makeFleet([], options))).toBe(FL_INVALID_SIMULATION);
    expect(errorCode(() => makeFleet(parts, { ...options, speedSpread: 0.5 }))).toBe(
      FL_INVALID_SIMULATION,
    );
    expect(errorCode(() => makeFleet(parts, { ...options, maliciousFraction: 0.2 }))).toBe(
      FL_INVALID_SIMULATION,
    );
  });
});
