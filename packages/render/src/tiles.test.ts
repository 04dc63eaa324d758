import { isDpnError } from "@dpn/protocol";
import type { RenderTile } from "@dpn/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RENDER_TILE_INVALID } from "./errors.ts";
import type { RgbaImage } from "./image.ts";
import { cropImage, stitchTiles, tileBounds } from "./tiles.ts";

function grid(columns: number, rows: number): RenderTile[] {
  const tiles: RenderTile[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) tiles.push({ column, row, columns, rows });
  }
  return tiles;
}

/** An image whose every byte says where it is, so a misplaced tile shows. */
function numbered(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  return { width, height, data };
}

function expectTileError(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(isDpnError(thrown, RENDER_TILE_INVALID)).toBe(true);
}

const frameAndGrid = fc.record({
  width: fc.integer({ min: 8, max: 300 }),
  height: fc.integer({ min: 8, max: 300 }),
  columns: fc.integer({ min: 1, max: 8 }),
  rows: fc.integer({ min: 1, max: 8 }),
});

describe("tileBounds", () => {
  it("covers the frame exactly once, tiles within a pixel of each other in size", () => {
    fc.assert(
      fc.property(frameAndGrid, ({ width, height, columns, rows }) => {
        const cover = new Uint8Array(width * height);
        const widths = new Set<number>();
        const heights = new Set<number>();
        for (const tile of grid(columns, rows)) {
          const rect = tileBounds(width, height, tile);
          widths.add(rect.width);
          heights.add(rect.height);
          for (let y = rect.y; y < rect.y + rect.height; y++) {
            for (let x = rect.x; x < rect.x + rect.width; x++)
              cover[y * width + x] = (cover[y * width + x] as number) + 1;
          }
        }
        expect(cover.every((count) => count === 1)).toBe(true);
        expect(Math.max(...widths) - Math.min(...widths)).toBeLessThanOrEqual(1);
        expect(Math.max(...heights) - Math.min(...heights)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 200 },
    );
  });

  it("counts rows from the bottom, as Blender's border does", () => {
    // 64×48 in 3×2: columns 21, 21, 22 wide; row 0 is the bottom half of the image.
    expect(tileBounds(64, 48, { column: 0, row: 0, columns: 3, rows: 2 })).toEqual({
      x: 0,
      y: 24,
      width: 21,
      height: 24,
    });
    expect(tileBounds(64, 48, { column: 2, row: 1, columns: 3, rows: 2 })).toEqual({
      x: 42,
      y: 0,
      width: 22,
      height: 24,
    });
  });

  it("refuses a tile outside its grid", () => {
    expectTileError(() => tileBounds(64, 48, { column: 3, row: 0, columns: 3, rows: 2 }));
    expectTileError(() => tileBounds(64, 48, { column: 0, row: -1, columns: 3, rows: 2 }));
    expectTileError(() => tileBounds(4, 48, { column: 0, row: 0, columns: 5, rows: 2 }));
    expectTileError(() => tileBounds(64.5, 48, { column: 0, row: 0, columns: 1, rows: 1 }));
  });
});

describe("stitchTiles", () => {
  it("puts cropped tiles back into the frame they came from, in any order", () => {
    fc.assert(
      fc.property(frameAndGrid, fc.integer(), ({ width, height, columns, rows }, seed) => {
        const frame = numbered(width, height);
        const tiles = grid(columns, rows).map((tile) => ({
          tile,
          image: cropImage(frame, tileBounds(width, height, tile)),
        }));
        const shuffled = [...tiles].sort(
          (a, b) =>
            ((a.tile.column * 31 + a.tile.row + seed) % 7) -
            ((b.tile.column * 31 + b.tile.row + seed) % 7),
        );
        const stitched = stitchTiles(width, height, shuffled);
        expect(Buffer.from(stitched.data).equals(Buffer.from(frame.data))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses missing, repeated, mis-sized and mixed-grid tiles", () => {
    const frame = numbered(64, 48);
    const tiles = grid(2, 2).map((tile) => ({
      tile,
      image: cropImage(frame, tileBounds(64, 48, tile)),
    }));
    const [a, b, c] = tiles as [
      (typeof tiles)[number],
      (typeof tiles)[number],
      (typeof tiles)[number],
    ];
    expectTileError(() => stitchTiles(64, 48, []));
    expectTileError(() => stitchTiles(64, 48, [a, b, c]));
    expectTileError(() => stitchTiles(64, 48, [a, b, c, c]));
    expectTileError(() =>
      stitchTiles(64, 48, [
        a,
        b,
        c,
        { tile: tiles[3]?.tile as RenderTile, image: numbered(31, 24) },
      ]),
    );
    expectTileError(() =>
      stitchTiles(64, 48, [
        a,
        b,
        c,
        { tile: { column: 1, row: 1, columns: 2, rows: 3 }, image: a.image },
      ]),
    );
  });
});

describe("cropImage", () => {
  it("refuses a rectangle outside the image", () => {
    expectTileError(() => cropImage(numbered(8, 8), { x: 4, y: 0, width: 5, height: 8 }));
    expectTileError(() => cropImage(numbered(8, 8), { x: 0, y: 0, width: 0, height: 8 }));
  });
});
