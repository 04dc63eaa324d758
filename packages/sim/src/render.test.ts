import { describe, expect, it } from "vitest";
import { buildCharts } from "./charts.ts";
import { runMonteCarlo } from "./monteCarlo.ts";
import { CHART_FONT_FILES, renderChart } from "./render.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("renderChart", async () => {
  const r = await runMonteCarlo({ iterations: 45, seed: "render", threads: 1 });
  const chart = buildCharts(r).find((c) => c.name === "decoupling-probability");
  if (chart === undefined) throw new Error("no decoupling chart");

  it("draws an SVG with the chart's marks and text in the shipped font", async () => {
    const { svg } = await renderChart(chart);
    expect(svg.startsWith("<svg")).toBe(true);
    // One bar per scenario, and the labels as text.
    const bars = svg.match(/class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/s)?.[1] ?? "";
    expect(bars.match(/<path/g)).toHaveLength(r.scenarios.length);
    for (const s of r.scenarios) expect(svg).toContain(`>${s.label}</text>`);
    expect(svg).toContain('font-family="DejaVu Sans"');
    expect(CHART_FONT_FILES.every((f) => f.endsWith(".ttf"))).toBe(true);
  });

  it("rasterises it to a PNG twice the SVG's size", async () => {
    const { svg, png } = await renderChart(chart);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const ihdr = new DataView(png.buffer, png.byteOffset + 16, 8);
    const width = Number(svg.match(/width="(\d+)"/)?.[1]);
    const height = Number(svg.match(/height="(\d+)"/)?.[1]);
    expect(width).toBeGreaterThan(300);
    expect(height).toBeGreaterThan(200);
    expect(ihdr.getUint32(0)).toBe(2 * width);
    expect(ihdr.getUint32(4)).toBe(2 * height);
    // Bars, axes and text, not an empty canvas (a blank PNG of this size compresses to ~5 KB).
    expect(png.byteLength).toBeGreaterThan(20_000);
  });
});
