import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The protocol core is pure (docs/protocol.md §Purity): no I/O, no clock, no ambient randomness.
 * Biome enforces the imports and globals; this test also catches Math.random and friends.
 */
const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/from\s+["']node:/, "imports a node: module"],
  [
    /from\s+["'](fs|path|os|crypto|child_process|worker_threads|http|net)["']/,
    "imports a Node module",
  ],
  [/\bimport\(/, "imports dynamically"],
  [/Math\.random/, "uses Math.random"],
  [/\bDate\b/, "reads the clock (Date)"],
  [/\bperformance\./, "reads the clock (performance)"],
  [/\bprocess\./, "reads the environment (process)"],
  [/\b(setTimeout|setInterval|setImmediate|fetch|require)\(/, "does I/O or scheduling"],
];

describe("protocol purity", () => {
  const dir = import.meta.dirname;
  const sources = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));

  it("has sources to check", () => {
    expect(sources.length).toBeGreaterThan(10);
  });

  for (const file of sources) {
    it(`${file} does no I/O and reads no clock or ambient randomness`, () => {
      const code = readFileSync(join(dir, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      const violations = FORBIDDEN.filter(([pattern]) => pattern.test(code)).map(([, why]) => why);
      expect(violations).toEqual([]);
    });
  }
});
