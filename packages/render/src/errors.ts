import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of @dpn/render. Every failure a requester, a device or a scene can cause is
 * a DpnError carrying one of these; codes never change meaning once released.
 */

/** Bytes that are not a PNG this package reads (corrupt, truncated, unsupported, oversized). */
export const RENDER_IMAGE_INVALID = "RENDER_IMAGE_INVALID";
/** An image or tile that does not fit the frame it belongs to (wrong size, overlap, gap). */
export const RENDER_TILE_INVALID = "RENDER_TILE_INVALID";
/** Blender ran and failed: the scene did not load, a setting was refused, no image came out. */
export const RENDER_FAILED = "RENDER_FAILED";
/** No Blender to run: not installed, or not at the path given. */
export const RENDER_UNAVAILABLE = "RENDER_UNAVAILABLE";
/** Render options out of range (size, samples, frame, threads). */
export const RENDER_OPTIONS_INVALID = "RENDER_OPTIONS_INVALID";

/** The codes above with their HTTP status and meaning (docs/errors.md). */
export const RENDER_ERRORS = errorTable({
  RENDER_FAILED: {
    status: 500,
    meaning: "Blender ran and failed: the scene did not load or no image came out.",
  },
  RENDER_IMAGE_INVALID: {
    status: 400,
    meaning: "Bytes that are not a PNG this package reads (corrupt, truncated, oversized).",
  },
  RENDER_OPTIONS_INVALID: {
    status: 400,
    meaning: "Render options out of range (size, samples, frame, threads).",
  },
  RENDER_TILE_INVALID: {
    status: 400,
    meaning: "An image or tile that does not fit its frame (wrong size, overlap, gap).",
  },
  RENDER_UNAVAILABLE: {
    status: 503,
    meaning: "No Blender to run: not installed, or not at the path given.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof RENDER_ERRORS> {}
}
