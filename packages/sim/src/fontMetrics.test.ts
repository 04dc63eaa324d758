import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readFontMetrics } from "./fontMetrics.ts";
import { CHART_FONT_FILES } from "./render.ts";

describe("readFontMetrics", () => {
  const regular = readFontMetrics(readFileSync(CHART_FONT_FILES[0] as string));

  it("reads DejaVu Sans's advance widths (2048 units per em)", () => {
    // Published metrics of DejaVu Sans: space 651, digits 1303, "W" 2025, "i" 569.
    expect(regular.width(" ", 2048)).toBe(651);
    expect(regular.width("0123456789", 2048)).toBe(13_030);
    expect(regular.width("W", 2048)).toBe(2025);
    expect(regular.width("i", 2048)).toBe(569);
  });

  it("scales with the font size and adds up along the text", () => {
    expect(regular.width("Wi", 11)).toBeCloseTo(((2025 + 569) * 11) / 2048, 12);
    expect(regular.width("", 11)).toBe(0);
    // A character the font lacks takes the missing glyph's width, not zero.
    expect(regular.width("\u{1F600}", 2048)).toBeGreaterThan(0);
  });
});
