import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import {
  blenderVersion,
  compareImages,
  cropImage,
  DEFAULT_BLENDER,
  decodePng,
  EXAMPLE_SCENE,
  RENDER_TOLERANCE,
  type RgbaImage,
  renderTile,
  tileBounds,
} from "@dpn/render";
import type { RenderTile } from "@dpn/wire";
import { type Benchmark, type BenchRow, median } from "./harness.ts";

/**
 * Render replicas (docs/adr/0011-renderer.md): how much do two renders of the same tile differ
 * (1 vs 2 threads, run after run, a tile vs the same pixels of a whole-frame render), and how far
 * outside RENDER_TOLERANCE is a tampered tile (a painted square, the next frame, fewer samples)?
 * Then the wall time of a 320×240, 16-sample frame next to Blender's bare start-up.
 */

const QUESTION =
  "How much do renders of one tile differ, and is a tampered tile outside RENDER_TOLERANCE?";
const WIDTH = 160;
const HEIGHT = 120;
const SAMPLES = 16;
const FRAME = 3;
const TILE: RenderTile = { column: 1, row: 0, columns: 2, rows: 2 };

function maxDifference(a: RgbaImage, b: RgbaImage): number {
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    worst = Math.max(worst, Math.abs((a.data[i] as number) - (b.data[i] as number)));
  }
  return worst;
}

function paint(image: RgbaImage, side: number): RgbaImage {
  const data = new Uint8Array(image.data);
  const x0 = (image.width - side) >> 1;
  const y0 = (image.height - side) >> 1;
  for (let y = y0; y < y0 + side; y++) {
    for (let x = x0; x < x0 + side; x++) data.set([255, 0, 255, 255], (y * image.width + x) * 4);
  }
  return { ...image, data };
}

function row(name: string, a: RgbaImage, b: RgbaImage): BenchRow {
  const { agree, meanError, differingFraction } = compareImages(a, b);
  return {
    case: name,
    "mean error (levels)": meanError,
    "differing pixels (%)": differingFraction * 100,
    "max diff (levels)": maxDifference(a, b),
    "within RENDER_TOLERANCE": agree ? "yes" : "no",
  };
}

const bench: Benchmark = async ({ quick }) => {
  const blender = await blenderVersion();
  if (blender === undefined) {
    return {
      name: "render",
      question: QUESTION,
      rows: [{ case: "Blender is not installed: nothing measured" }],
      notes: ["apt-get install --no-install-recommends blender"],
    };
  }
  const tile = async (options: { threads?: number; frame?: number; samples?: number }) =>
    decodePng(
      await renderTile({
        scenePath: EXAMPLE_SCENE,
        frame: options.frame ?? FRAME,
        tile: TILE,
        width: WIDTH,
        height: HEIGHT,
        samples: options.samples ?? SAMPLES,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      }),
    );
  const oneThread = await tile({ threads: 1 });
  const twoThreads = await tile({ threads: 2 });
  const again = await tile({ threads: 2 });
  const whole = decodePng(
    await renderTile({
      scenePath: EXAMPLE_SCENE,
      frame: FRAME,
      tile: { column: 0, row: 0, columns: 1, rows: 1 },
      width: WIDTH,
      height: HEIGHT,
      samples: SAMPLES,
    }),
  );
  const fromWhole = cropImage(whole, tileBounds(WIDTH, HEIGHT, TILE));
  const rows: BenchRow[] = [
    row("1 thread vs 2 threads", oneThread, twoThreads),
    row("run vs run (2 threads)", twoThreads, again),
    row("tile vs whole-frame render", twoThreads, fromWhole),
    row("painted 2×2 square", twoThreads, paint(twoThreads, 2)),
    row("painted 8×8 square", twoThreads, paint(twoThreads, 8)),
    row(`frame ${FRAME + 1} instead of ${FRAME}`, twoThreads, await tile({ frame: FRAME + 1 })),
    row(
      `${SAMPLES / 2} samples instead of ${SAMPLES}`,
      twoThreads,
      await tile({ samples: SAMPLES / 2 }),
    ),
  ];

  const repeats = quick ? 1 : 3;
  const frameMs: number[] = [];
  const startMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    let t = performance.now();
    execFileSync(
      DEFAULT_BLENDER,
      ["-b", "--factory-startup", "-noaudio", "--python-expr", "pass"],
      {
        stdio: "ignore",
      },
    );
    startMs.push(performance.now() - t);
    t = performance.now();
    await renderTile({
      scenePath: EXAMPLE_SCENE,
      frame: FRAME,
      tile: { column: 0, row: 0, columns: 1, rows: 1 },
      width: 320,
      height: 240,
      samples: 16,
    });
    frameMs.push(performance.now() - t);
  }
  rows.push({
    case: `320×240, 16 samples, whole frame: ${Math.round(median(frameMs))} ms wall (median of ${repeats}); Blender start-up alone ${Math.round(median(startMs))} ms`,
    "mean error (levels)": "",
    "differing pixels (%)": "",
    "max diff (levels)": "",
    "within RENDER_TOLERANCE": "",
  });
  return {
    name: "render",
    question: QUESTION,
    rows,
    notes: [
      `Blender ${blender}, example scene, ${WIDTH}×${HEIGHT}, ${SAMPLES} samples, tile (${TILE.column}, ${TILE.row}) of ${TILE.columns}×${TILE.rows}, frame ${FRAME}`,
      `RENDER_TOLERANCE: mean ≤ ${RENDER_TOLERANCE.maxMeanError} levels, ≤ ${RENDER_TOLERANCE.maxDifferingFraction * 100}% of pixels over ${RENDER_TOLERANCE.pixelThreshold} levels`,
    ],
  };
};

export default bench;
