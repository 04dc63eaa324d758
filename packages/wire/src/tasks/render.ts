import { z } from "zod";
import { Sha256Hex } from "../schemas.ts";
import { taskWire } from "./kind.ts";

/**
 * `render` (§3.2: rigs take rendering; docs/protocol.md §Render jobs): the requester uploads a
 * Blender scene and asks for a range of frames, each optionally cut into tiles; every tile is a
 * task, rendered by Blender's Cycles on the CPU of devices that advertise the same Blender
 * version, and accepted by a replication quorum whose replicas agree within a pixel tolerance.
 * Images travel as artifacts (PNG, by content hash), not inside frames of the channel.
 */

/** Largest frame number Blender accepts (MAXFRAME). */
export const MAX_RENDER_FRAME = 1_048_574;
/** Frames in one job: each is at least one task and one image artifact. */
export const MAX_RENDER_FRAMES = 1_000;
/** Tiles per side of a frame: 8 × 8 = 64 tasks per frame at most. */
export const MAX_TILES_PER_SIDE = 8;

export const RenderJobSpec = z
  .strictObject({
    type: z.literal("render"),
    /** Content hash of the uploaded .blend scene. */
    scene: Sha256Hex,
    /** The frames to render, both ends included. */
    frames: z.strictObject({
      first: z.number().int().min(0).max(MAX_RENDER_FRAME),
      last: z.number().int().min(0).max(MAX_RENDER_FRAME),
    }),
    /** Output size in pixels; it overrides the scene's, so the price is known in advance. */
    width: z.number().int().min(8).max(8192),
    height: z.number().int().min(8).max(8192),
    /** Cycles samples per pixel; overrides the scene's. */
    samples: z.number().int().min(1).max(4096),
    /** Tiles per frame, columns × rows (default 1 × 1: whole frames). */
    tiles: z.optional(
      z.strictObject({
        columns: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
        rows: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
      }),
    ),
  })
  .refine((spec) => spec.frames.last >= spec.frames.first, {
    message: "frames.last must not be before frames.first",
    path: ["frames", "last"],
  })
  .refine((spec) => spec.frames.last - spec.frames.first < MAX_RENDER_FRAMES, {
    message: `at most ${MAX_RENDER_FRAMES} frames per job`,
    path: ["frames"],
  });
export type RenderJobSpec = z.infer<typeof RenderJobSpec>;

/** The tile of a frame a task renders: column and row from the bottom left, as Blender counts. */
export const RenderTile = z.strictObject({
  column: z
    .number()
    .int()
    .min(0)
    .max(MAX_TILES_PER_SIDE - 1),
  row: z
    .number()
    .int()
    .min(0)
    .max(MAX_TILES_PER_SIDE - 1),
  columns: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
  rows: z.number().int().min(1).max(MAX_TILES_PER_SIDE),
});
export type RenderTile = z.infer<typeof RenderTile>;

/** One leased tile; the scene is the lease's `scene` artifact. */
export const RenderItem = z.strictObject({
  frame: z.number().int().min(0).max(MAX_RENDER_FRAME),
  tile: RenderTile,
  width: z.number().int().min(8).max(8192),
  height: z.number().int().min(8).max(8192),
  samples: z.number().int().min(1).max(4096),
});
export type RenderItem = z.infer<typeof RenderItem>;

/** A rendered tile: the PNG the device uploaded as an artifact, and its size. */
export const RenderOutput = z.strictObject({
  image: Sha256Hex,
  bytes: z.number().int().min(1),
  width: z.number().int().min(1).max(8192),
  height: z.number().int().min(1).max(8192),
});
export type RenderOutput = z.infer<typeof RenderOutput>;

/** What a render device advertises: the Blender it renders with (replicas must agree). */
export const RenderCapability = z.strictObject({
  blender: z.string().regex(/^\d{1,3}\.\d{1,3}(\.\d{1,3})?$/, "a Blender version such as 3.4.1"),
});
export type RenderCapability = z.infer<typeof RenderCapability>;

export const render = taskWire({
  type: "render",
  spec: RenderJobSpec,
  item: RenderItem,
  output: RenderOutput,
  capability: RenderCapability,
});
