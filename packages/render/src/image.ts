import { DpnError } from "@dpn/protocol";
import { RENDER_IMAGE_INVALID } from "./errors.ts";

/** An 8-bit RGBA image, row-major, top row first (as PNG stores it). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Bytes per pixel of an RgbaImage. */
export const RGBA_CHANNELS = 4;

/** Throws RENDER_IMAGE_INVALID unless `image` is consistent (a bug or hostile input otherwise). */
export function checkImage(image: RgbaImage, what = "image"): void {
  const { width, height, data } = image;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new DpnError(RENDER_IMAGE_INVALID, `The ${what} is ${width}×${height} pixels.`, {
      hint: "Width and height must be positive integers.",
    });
  }
  if (data.length !== width * height * RGBA_CHANNELS) {
    throw new DpnError(
      RENDER_IMAGE_INVALID,
      `The ${what} has ${data.length} bytes of pixels; ${width}×${height} RGBA needs ${width * height * RGBA_CHANNELS}.`,
      { hint: "Pixels are 8-bit RGBA, row-major, top row first." },
    );
  }
}
