import { describe, expect, it } from "vitest";
import { compareImages, RENDER_TOLERANCE } from "./compare.ts";
import type { RgbaImage } from "./image.ts";

function gradient(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x * 4, y * 5, 128, 255], (y * width + x) * 4);
  }
  return { width, height, data };
}

function changed(image: RgbaImage, pixels: number, by: number): RgbaImage {
  const data = new Uint8Array(image.data);
  for (let p = 0; p < pixels; p++) data[p * 4] = Math.min(255, (data[p * 4] as number) + by);
  return { ...image, data };
}

describe("compareImages", () => {
  it("finds an image equal to itself", () => {
    const image = gradient(40, 30);
    expect(compareImages(image, gradient(40, 30))).toEqual({
      agree: true,
      meanError: 0,
      differingFraction: 0,
    });
  });

  it("measures mean error in levels per channel and the share of pixels over the threshold", () => {
    const image = gradient(40, 30); // 1,200 pixels
    const result = compareImages(image, changed(image, 12, 100));
    expect(result.meanError).toBeCloseTo((12 * 100) / (1200 * 4), 10);
    expect(result.differingFraction).toBeCloseTo(12 / 1200, 10);
    expect(result.agree).toBe(false);
  });

  it("lets small differences on a few pixels through and nothing more", () => {
    const image = gradient(40, 30);
    const { pixelThreshold, maxDifferingFraction } = RENDER_TOLERANCE;
    // Every pixel off by the threshold: none counts as differing, mean error stays small.
    expect(compareImages(image, changed(image, 1200, 1)).agree).toBe(true);
    expect(compareImages(image, changed(image, 1200, pixelThreshold + 1)).agree).toBe(false);
    const allowed = Math.floor(1200 * maxDifferingFraction);
    expect(compareImages(image, changed(image, allowed, 60)).agree).toBe(true);
    expect(compareImages(image, changed(image, allowed + 1, 60)).agree).toBe(false);
  });

  it("never agrees on images of different sizes", () => {
    expect(compareImages(gradient(40, 30), gradient(30, 40))).toEqual({
      agree: false,
      meanError: 255,
      differingFraction: 1,
    });
  });

  it("takes a tolerance of the caller's", () => {
    const image = gradient(40, 30);
    const loose = { maxMeanError: 255, maxDifferingFraction: 1, pixelThreshold: 255 };
    expect(compareImages(image, changed(image, 1200, 200), loose).agree).toBe(true);
  });
});
