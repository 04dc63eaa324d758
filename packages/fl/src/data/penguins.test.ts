import { describe, expect, it } from "vitest";
import { classShares } from "../dataset.ts";
import { loadPenguins } from "./penguins.ts";

describe("penguins", () => {
  it("reads the 342 complete records of vega-datasets' penguins.json, three species", () => {
    const data = loadPenguins();
    expect(data.rows).toBe(342);
    expect(data.features).toBe(4);
    expect(classShares(data).map((s) => Math.round(s * data.rows))).toEqual([151, 68, 123]);
    // Fixed scaling keeps every feature within a few units of 0.
    expect(Math.max(...data.x.map(Math.abs))).toBeLessThan(4);
  });
});
