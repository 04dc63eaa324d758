import type { RenderItem, RenderJobSpec, RenderTile } from "@dpn/wire";

/**
 * A render job's items, implied by its spec (docs/protocol.md §Render jobs): frame by frame, and
 * within a frame tile by tile, columns first, rows from the bottom as Blender counts. Item `i` is
 * one tile of one frame, and one fragment; nothing of the list is stored.
 */
export function tilesPerFrame(spec: RenderJobSpec): number {
  return (spec.tiles?.columns ?? 1) * (spec.tiles?.rows ?? 1);
}

export function itemCount(spec: RenderJobSpec): number {
  return (spec.frames.last - spec.frames.first + 1) * tilesPerFrame(spec);
}

export function renderItem(spec: RenderJobSpec, index: number): RenderItem {
  const perFrame = tilesPerFrame(spec);
  const columns = spec.tiles?.columns ?? 1;
  const rows = spec.tiles?.rows ?? 1;
  const within = index % perFrame;
  const tile: RenderTile = {
    column: within % columns,
    row: Math.floor(within / columns),
    columns,
    rows,
  };
  return {
    frame: spec.frames.first + Math.floor(index / perFrame),
    tile,
    width: spec.width,
    height: spec.height,
    samples: spec.samples,
  };
}

/** The items of one frame, as [from, to) indices. */
export function frameItems(spec: RenderJobSpec, frame: number): readonly [number, number] {
  const from = (frame - spec.frames.first) * tilesPerFrame(spec);
  return [from, from + tilesPerFrame(spec)];
}

export function framesOf(spec: RenderJobSpec): number[] {
  return Array.from(
    { length: spec.frames.last - spec.frames.first + 1 },
    (_, i) => spec.frames.first + i,
  );
}
