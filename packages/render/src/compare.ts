import { checkImage, RGBA_CHANNELS, type RgbaImage } from "./image.ts";

/**
 * When two renders of the same tile count as the same image. Differences are in 8-bit levels
 * (0–255) per channel: `meanError` bounds the mean absolute difference over all channels of all
 * pixels; a pixel differs when one of its channels differs by more than `pixelThreshold`, and
 * `maxDifferingFraction` bounds the share of such pixels.
 */
export interface ImageTolerance {
  readonly maxMeanError: number;
  readonly maxDifferingFraction: number;
  readonly pixelThreshold: number;
}

/**
 * The tolerance replicas of a render tile are compared with (docs/adr/0011-renderer.md), chosen
 * from `npm run bench -- render` (Blender 3.4.1, Cycles CPU, fixed seed, no adaptive sampling,
 * denoising or dithering; example scene). On one machine, renders of a tile with 1 and 2 threads,
 * run after run, and the same pixels of a whole-frame render were identical: mean error 0, no
 * pixel off by even one level. Devices of other CPU types run other SIMD kernels of the same
 * Blender, whose rounding can differ slightly and occasionally send one path elsewhere (a single
 * firefly pixel), which cannot be measured here; the bound allows that much — a mean of a quarter
 * level and 0.2% of pixels off by more than 4 levels — and no more. What a device saves work with
 * lands far outside: 8 samples instead of 16 differ in 20% of pixels, the next frame in 34%, a
 * painted 8×8 square in a 80×60 tile in 1.3%. Vandalism smaller than 0.2% of a tile (a 2×2 square)
 * passes: it saves the device no work.
 */
export const RENDER_TOLERANCE: ImageTolerance = {
  maxMeanError: 0.25,
  maxDifferingFraction: 0.002,
  pixelThreshold: 4,
};

export interface ImageComparison {
  /** Same size and within the tolerance. */
  readonly agree: boolean;
  /** Mean absolute difference per channel, in 8-bit levels (255 when the sizes differ). */
  readonly meanError: number;
  /** Share of pixels with a channel off by more than pixelThreshold (1 when the sizes differ). */
  readonly differingFraction: number;
}

/** Compares two renders of the same tile under `tolerance` (default RENDER_TOLERANCE). */
export function compareImages(
  a: RgbaImage,
  b: RgbaImage,
  tolerance: ImageTolerance = RENDER_TOLERANCE,
): ImageComparison {
  checkImage(a);
  checkImage(b);
  if (a.width !== b.width || a.height !== b.height) {
    return { agree: false, meanError: 255, differingFraction: 1 };
  }
  let total = 0;
  let differing = 0;
  const pixels = a.width * a.height;
  for (let p = 0; p < pixels; p++) {
    let worst = 0;
    for (let c = 0; c < RGBA_CHANNELS; c++) {
      const i = p * RGBA_CHANNELS + c;
      const d = Math.abs((a.data[i] as number) - (b.data[i] as number));
      total += d;
      if (d > worst) worst = d;
    }
    if (worst > tolerance.pixelThreshold) differing += 1;
  }
  const meanError = total / (pixels * RGBA_CHANNELS);
  const differingFraction = differing / pixels;
  return {
    agree:
      meanError <= tolerance.maxMeanError && differingFraction <= tolerance.maxDifferingFraction,
    meanError,
    differingFraction,
  };
}
