import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnDpn } from "./processes.ts";

/** `dpn sim montecarlo --out <dir>` as a real process: the report, its JSON and its charts. */
const dir = mkdtempSync(join(tmpdir(), "dpn-sim-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHARTS = [
  "deviation-distribution",
  "decoupling-probability",
  "supply",
  "rig-share",
  "reward-gini",
];

describe("dpn sim montecarlo --out", () => {
  it("writes report.json, report.md and every chart the report links, as SVG and PNG", async () => {
    const child = spawnDpn([
      "sim",
      "montecarlo",
      "--iterations",
      "36",
      "--threads",
      "1",
      "--seed",
      "cli-report",
      "--out",
      dir,
    ]);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);

    const result = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as {
      kind: string;
      iterations: number;
      scenarios: Array<{ series: { hours: number[] } }>;
    };
    expect(result.kind).toBe("montecarlo");
    expect(result.iterations).toBe(36);
    expect(result.scenarios[0]?.series.hours).toHaveLength(30);

    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    expect(markdown).toContain("## Decoupling probability per scenario");
    const linked = [...markdown.matchAll(/\]\((charts\/[^)]+)\)/g)].map((m) => m[1] as string);
    expect(linked).toEqual(CHARTS.flatMap((name) => [`charts/${name}.png`, `charts/${name}.svg`]));
    for (const path of linked) expect(existsSync(join(dir, path))).toBe(true);
    for (const name of CHARTS) {
      expect(readFileSync(join(dir, "charts", `${name}.svg`), "utf8")).toMatch(/^<svg/);
      const png = readFileSync(join(dir, "charts", `${name}.png`));
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect(png.byteLength).toBeGreaterThan(10_000);
    }
  });
});
