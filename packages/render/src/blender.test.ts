import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDpnError } from "@dpn/protocol";
import type { RenderTile } from "@dpn/wire";
import { describe, expect, it } from "vitest";
import { blenderVersion, EXAMPLE_SCENE, renderTile } from "./blender.ts";
import { compareImages } from "./compare.ts";
import {
  RENDER_FAILED,
  RENDER_OPTIONS_INVALID,
  RENDER_TILE_INVALID,
  RENDER_UNAVAILABLE,
} from "./errors.ts";
import { decodePng } from "./png.ts";
import { stitchTiles, tileBounds } from "./tiles.ts";

// Test-sized: 64×48 does not divide into 3 columns evenly (21, 21, 22 pixels).
const SIZE = { width: 64, height: 48, samples: 4 } as const;
const WHOLE: RenderTile = { column: 0, row: 0, columns: 1, rows: 1 };

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isDpnError(error) ? error.code : String(error);
  }
  return undefined;
}

const version = await blenderVersion();

describe("blenderVersion", () => {
  it("is undefined when there is no Blender", async () => {
    expect(await blenderVersion(join(tmpdir(), "no-such-blender"))).toBeUndefined();
  });
});

// CI installs Debian's blender (.ci/run); a machine without it skips only these.
describe.skipIf(version === undefined)("renderTile with Blender", () => {
  it("reports a version such as 3.4.1", () => {
    expect(version).toMatch(/^\d+\.\d+(\.\d+)?$/);
  });

  it("renders tiles that stitch into the whole frame, within tolerance", async () => {
    const frame = 2;
    const whole = decodePng(
      await renderTile({ scenePath: EXAMPLE_SCENE, frame, tile: WHOLE, ...SIZE }),
    );
    expect([whole.width, whole.height]).toEqual([64, 48]);
    // Blender's start-up dominates at this size: the three tiles render at once.
    const tiles = await Promise.all(
      [0, 1, 2].map(async (column) => {
        const tile: RenderTile = { column, row: 0, columns: 3, rows: 1 };
        // Thread counts differ between tiles: replicas need not run alike to agree.
        const image = decodePng(
          await renderTile({
            scenePath: EXAMPLE_SCENE,
            frame,
            tile,
            ...SIZE,
            threads: 1 + (column % 2),
          }),
        );
        const rect = tileBounds(64, 48, tile);
        expect([image.width, image.height]).toEqual([rect.width, rect.height]);
        return { tile, image };
      }),
    );
    const stitched = stitchTiles(64, 48, tiles);
    expect(compareImages(stitched, whole).agree).toBe(true);
    // The scene is lit and seen by the camera: not a blank frame that would agree with anything.
    const distinct = new Set<number>();
    for (let i = 0; i < whole.data.length; i += 4) distinct.add(whole.data[i] as number);
    expect(distinct.size).toBeGreaterThan(20);

    // Another frame of the animation is not the same image.
    const later = decodePng(
      await renderTile({ scenePath: EXAMPLE_SCENE, frame: 7, tile: WHOLE, ...SIZE }),
    );
    expect(compareImages(later, whole).agree).toBe(false);
  });

  it("fails with RENDER_FAILED and Blender's words on a file that is not a scene", async () => {
    const scenePath = join(tmpdir(), `not-a-scene-${process.pid}.blend`);
    await writeFile(scenePath, "this is not a blend file");
    let thrown: unknown;
    try {
      await renderTile({ scenePath, frame: 1, tile: WHOLE, ...SIZE });
    } catch (error) {
      thrown = error;
    }
    expect(isDpnError(thrown, RENDER_FAILED)).toBe(true);
    // Blender's own words, which name the file it could not read.
    expect((thrown as Error).message).toContain(scenePath);
  });

  it("stops Blender when the signal aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("lease expired");
    const rendering = renderTile({
      scenePath: EXAMPLE_SCENE,
      frame: 1,
      tile: WHOLE,
      width: 640,
      height: 480,
      samples: 4096,
      signal: controller.signal,
    });
    // Once Blender is under way; 4,096 samples at 640×480 would run for minutes, far past the
    // test's timeout, if the kill did not happen.
    setTimeout(() => controller.abort(reason), 1500);
    await expect(rendering).rejects.toBe(reason);
  });
});

describe("renderTile options", () => {
  it("refuses bad options before starting Blender", async () => {
    const base = { scenePath: EXAMPLE_SCENE, frame: 1, tile: WHOLE, ...SIZE };
    expect(await codeOf(renderTile({ ...base, samples: 0 }))).toBe(RENDER_OPTIONS_INVALID);
    expect(await codeOf(renderTile({ ...base, width: 100_000 }))).toBe(RENDER_OPTIONS_INVALID);
    expect(await codeOf(renderTile({ ...base, threads: 0 }))).toBe(RENDER_OPTIONS_INVALID);
    expect(
      await codeOf(renderTile({ ...base, tile: { column: 2, row: 0, columns: 2, rows: 1 } })),
    ).toBe(RENDER_TILE_INVALID);
    expect(await codeOf(renderTile({ ...base, scenePath: join(tmpdir(), "missing.blend") }))).toBe(
      RENDER_OPTIONS_INVALID,
    );
  });

  it("says RENDER_UNAVAILABLE when the Blender named is not there", async () => {
    const blender = join(tmpdir(), "no-such-blender");
    expect(
      await codeOf(
        renderTile({ scenePath: EXAMPLE_SCENE, frame: 1, tile: WHOLE, ...SIZE, blender }),
      ),
    ).toBe(RENDER_UNAVAILABLE);
  });
});
