import { DpnError } from "@dpn/protocol";
import type { RenderTile } from "@dpn/wire";
import { RENDER_TILE_INVALID } from "./errors.ts";
import { checkImage, RGBA_CHANNELS, type RgbaImage } from "./image.ts";

/** A rectangle of pixels, origin at the top left (image rows), as RgbaImage counts. */
export interface PixelRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function tileError(message: string, hint: string): DpnError {
  return new DpnError(RENDER_TILE_INVALID, message, { hint });
}

function checkTile(width: number, height: number, tile: RenderTile): void {
  const { column, row, columns, rows } = tile;
  if (![width, height, column, row, columns, rows].every(Number.isSafeInteger)) {
    throw tileError("Tile and frame sizes must be integers.", "Pass whole pixels and counts.");
  }
  if (columns < 1 || rows < 1 || column < 0 || row < 0 || column >= columns || row >= rows) {
    throw tileError(
      `Tile (${column}, ${row}) is not in a ${columns}×${rows} grid.`,
      "Columns and rows count from 0.",
    );
  }
  if (columns > width || rows > height) {
    throw tileError(
      `A ${width}×${height} frame cannot be cut into ${columns}×${rows} tiles.`,
      "Use at most one tile per pixel along each side.",
    );
  }
}

/** Pixel edges of cell `index` of `count` along a side of `size`: whole pixels, no gap. */
function span(size: number, index: number, count: number): [number, number] {
  return [Math.floor((index * size) / count), Math.floor(((index + 1) * size) / count)];
}

/**
 * The pixels of `tile` in a `width`×`height` frame, top-left origin. Tile rows count from the
 * bottom, as Blender's border does (row 0 is the bottom row of tiles). Edges fall on
 * ⌊i·size/n⌋, so the tiles of a grid cover the frame exactly, without overlap, and differ in
 * size by at most one pixel when the frame does not divide evenly.
 */
export function tileBounds(width: number, height: number, tile: RenderTile): PixelRect {
  checkTile(width, height, tile);
  const [x0, x1] = span(width, tile.column, tile.columns);
  const [y0, y1] = span(height, tile.row, tile.rows); // from the bottom
  return { x: x0, y: height - y1, width: x1 - x0, height: y1 - y0 };
}

/**
 * Assembles a frame from its tiles: every tile of one grid exactly once, each image exactly the
 * size tileBounds gives. Anything else (a missing, repeated or mis-sized tile, tiles of two grids)
 * is RENDER_TILE_INVALID: a frame with a gap or an overlap is never produced.
 */
export function stitchTiles(
  width: number,
  height: number,
  tiles: ReadonlyArray<{ readonly tile: RenderTile; readonly image: RgbaImage }>,
): RgbaImage {
  const first = tiles[0];
  if (first === undefined) throw tileError("No tiles to stitch.", "Pass every tile of the frame.");
  const { columns, rows } = first.tile;
  if (tiles.length !== columns * rows) {
    throw tileError(
      `A ${columns}×${rows} grid has ${columns * rows} tiles; ${tiles.length} were given.`,
      "Pass every tile of the frame exactly once.",
    );
  }
  const seen = new Set<number>();
  const data = new Uint8Array(width * height * RGBA_CHANNELS);
  for (const { tile, image } of tiles) {
    if (tile.columns !== columns || tile.rows !== rows) {
      throw tileError("The tiles belong to different grids.", "Stitch the tiles of one frame.");
    }
    const rect = tileBounds(width, height, tile);
    const key = tile.row * columns + tile.column;
    if (seen.has(key)) {
      throw tileError(`Tile (${tile.column}, ${tile.row}) is given twice.`, "Pass each tile once.");
    }
    seen.add(key);
    checkImage(image, `tile (${tile.column}, ${tile.row})`);
    if (image.width !== rect.width || image.height !== rect.height) {
      throw tileError(
        `Tile (${tile.column}, ${tile.row}) is ${image.width}×${image.height} pixels; it must be ${rect.width}×${rect.height}.`,
        "A tile image holds exactly the tile's pixels (a border render cropped to the border).",
      );
    }
    const rowBytes = rect.width * RGBA_CHANNELS;
    for (let y = 0; y < rect.height; y++) {
      const from = y * rowBytes;
      data.set(
        image.data.subarray(from, from + rowBytes),
        ((rect.y + y) * width + rect.x) * RGBA_CHANNELS,
      );
    }
  }
  return { width, height, data };
}

/** The pixels of `rect` copied out of `image` (a whole-frame render cut to a tile, say). */
export function cropImage(image: RgbaImage, rect: PixelRect): RgbaImage {
  checkImage(image);
  if (
    rect.x < 0 ||
    rect.y < 0 ||
    rect.width < 1 ||
    rect.height < 1 ||
    rect.x + rect.width > image.width ||
    rect.y + rect.height > image.height
  ) {
    throw tileError(
      `The rectangle ${rect.width}×${rect.height} at (${rect.x}, ${rect.y}) is not inside the ${image.width}×${image.height} image.`,
      "Crop inside the image.",
    );
  }
  const rowBytes = rect.width * RGBA_CHANNELS;
  const data = new Uint8Array(rect.height * rowBytes);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.y + y) * image.width + rect.x) * RGBA_CHANNELS;
    data.set(image.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { width: rect.width, height: rect.height, data };
}
