import { execFile, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DpnError, isDpnError } from "@dpn/protocol";
import { parseMessage, RenderItem, type RenderTile } from "@dpn/wire";
import { RENDER_FAILED, RENDER_OPTIONS_INVALID, RENDER_UNAVAILABLE } from "./errors.ts";
import { decodePng } from "./png.ts";
import { tileBounds } from "./tiles.ts";

/** The Blender run when none is named: Debian's `blender` on the PATH. */
export const DEFAULT_BLENDER = "blender";
/**
 * Cycles' seed for every render. Fixed, and the same on every device: the sampling noise is part
 * of the image, so replicas agree only if they draw the same samples.
 */
export const RENDER_SEED = 0;
/** Lines of Blender's output kept for a RENDER_FAILED message: its error is in the last few. */
export const BLENDER_LOG_TAIL_LINES = 20;
/** A longer line of Blender's output is cut (Python tracebacks can quote whole expressions). */
const MAX_LOG_LINE_CHARS = 400;
/**
 * `blender --version` starts the whole program (5 s measured on a loaded 2-core machine, cold
 * cache); one that has not answered in this long is hung and counts as no Blender.
 */
export const BLENDER_VERSION_TIMEOUT_MS = 60_000;
/** More render threads than this is a mistake (the wire bounds a device to 1024 cores). */
const MAX_THREADS = 1024;

const TILE_SCRIPT = fileURLToPath(new URL("../python/render_tile.py", import.meta.url));

/** The small example scene shipped with the package (scenes/example.py builds it; frames 1–8). */
export const EXAMPLE_SCENE: string = fileURLToPath(
  new URL("../scenes/example.blend", import.meta.url),
);

export interface RenderTileOptions {
  /** The .blend file to render. */
  readonly scenePath: string;
  readonly frame: number;
  readonly tile: RenderTile;
  /** Size of the whole frame in pixels (the scene's own is overridden). */
  readonly width: number;
  readonly height: number;
  /** Cycles samples per pixel (the scene's own is overridden). */
  readonly samples: number;
  /** Render threads (default: Blender's choice, one per core). */
  readonly threads?: number;
  /** The Blender executable (default DEFAULT_BLENDER on the PATH). */
  readonly blender?: string;
  /** Kills Blender; renderTile then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

function optionsError(message: string, cause?: unknown): DpnError {
  return new DpnError(RENDER_OPTIONS_INVALID, message, {
    hint: "Frames, sizes and samples are bounded as in a render job's spec (docs/protocol.md §Render jobs).",
    cause,
  });
}

/**
 * Renders one tile of one frame with Blender's Cycles on the CPU, in background mode, and returns
 * the PNG (8-bit RGBA) of exactly the tile's pixels. Blender runs as a child process with the
 * scene's Python scripts disabled (-Y) and factory settings; python/render_tile.py fixes every
 * setting that would make replicas differ (seed, sampling, denoising, compositing). Errors:
 * RENDER_OPTIONS_INVALID (bad options, scene missing), RENDER_UNAVAILABLE (no Blender),
 * RENDER_FAILED (Blender failed; the message quotes its last lines of output).
 */
export async function renderTile(options: RenderTileOptions): Promise<Uint8Array> {
  const { signal } = options;
  signal?.throwIfAborted();
  let item: RenderItem;
  try {
    item = parseMessage(
      RenderItem,
      {
        frame: options.frame,
        tile: options.tile,
        width: options.width,
        height: options.height,
        samples: options.samples,
      },
      "render options",
    );
  } catch (error) {
    throw optionsError(isDpnError(error) ? error.shortMessage : "Invalid render options.", error);
  }
  const { threads } = options;
  if (
    threads !== undefined &&
    (!Number.isSafeInteger(threads) || threads < 1 || threads > MAX_THREADS)
  ) {
    throw optionsError(`threads must be an integer in [1, ${MAX_THREADS}], got ${threads}.`);
  }
  const rect = tileBounds(item.width, item.height, item.tile);
  const scenePath = resolve(options.scenePath);
  try {
    await access(scenePath, constants.R_OK);
  } catch (error) {
    // Blender would carry on with its default scene and render that instead.
    throw optionsError(`The scene ${scenePath} cannot be read.`, error);
  }
  const dir = await mkdtemp(join(tmpdir(), "dpn-render-"));
  try {
    const output = join(dir, "tile.png");
    const request = {
      scene: scenePath,
      frame: item.frame,
      width: item.width,
      height: item.height,
      samples: item.samples,
      seed: RENDER_SEED,
      // Blender's border counts rows from the bottom.
      x0: rect.x,
      x1: rect.x + rect.width,
      y0: item.height - rect.y - rect.height,
      y1: item.height - rect.y,
      output,
    };
    const args = [
      "-b",
      scenePath,
      "-Y",
      "--factory-startup",
      "-noaudio",
      "--python-exit-code",
      "1",
      ...(threads === undefined ? [] : ["-t", String(threads)]),
      "--python",
      TILE_SCRIPT,
      "--",
      JSON.stringify(request),
    ];
    await runBlender(options.blender ?? DEFAULT_BLENDER, args, dir, signal);
    let png: Uint8Array;
    try {
      png = new Uint8Array(await readFile(output));
    } catch (error) {
      throw new DpnError(RENDER_FAILED, "Blender finished without writing the tile.", {
        hint: "The scene may have no camera.",
        cause: error,
      });
    }
    const image = decodePng(png, rect.width * rect.height);
    if (image.width !== rect.width || image.height !== rect.height) {
      throw new DpnError(
        RENDER_FAILED,
        `Blender wrote a ${image.width}×${image.height} image for a ${rect.width}×${rect.height} tile.`,
        { hint: "This Blender crops borders differently; use the version the network pins." },
      );
    }
    return png;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs Blender to completion; rejects with a coded error, or the signal's reason on abort. */
function runBlender(
  blender: string,
  args: readonly string[],
  cwd: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const tail: string[] = [];
    let partial = "";
    const keep = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.trim() === "") continue;
        tail.push(line.slice(0, MAX_LOG_LINE_CHARS));
        if (tail.length > BLENDER_LOG_TAIL_LINES) tail.shift();
      }
    };
    const child = spawn(blender, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // SIGTERM waits for Blender to finish its current sample; a cancelled render need not.
      killSignal: "SIGKILL",
      ...(signal === undefined ? {} : { signal }),
    });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (signal?.aborted) {
        reject(signal.reason);
      } else if (error.code === "ENOENT" || error.code === "EACCES") {
        reject(
          new DpnError(RENDER_UNAVAILABLE, `Blender (${blender}) cannot be run.`, {
            hint: "Install it (Debian: apt-get install --no-install-recommends blender).",
            cause: error,
          }),
        );
      } else {
        reject(new DpnError(RENDER_FAILED, "Blender could not be started.", { cause: error }));
      }
    });
    child.on("close", (code, killedBy) => {
      if (signal?.aborted) return reject(signal.reason);
      if (code === 0) return resolvePromise();
      if (partial.trim() !== "") tail.push(partial.slice(0, MAX_LOG_LINE_CHARS));
      reject(
        new DpnError(
          RENDER_FAILED,
          `Blender failed (${killedBy === null ? `exit code ${code}` : `killed by ${killedBy}`}): ${tail.slice(-BLENDER_LOG_TAIL_LINES).join("\n")}`,
          {
            hint: "Check that the scene opens in this Blender version and has a camera.",
            details: { exitCode: code, signal: killedBy, log: tail.slice(-BLENDER_LOG_TAIL_LINES) },
          },
        ),
      );
    });
  });
}

const versions = new Map<string, Promise<string | undefined>>();

/**
 * The version of the Blender at `blender` (default on the PATH), as "3.4.1"; undefined when there
 * is none or it does not answer. Asked once per executable and process (it starts Blender).
 */
export function blenderVersion(blender: string = DEFAULT_BLENDER): Promise<string | undefined> {
  let version = versions.get(blender);
  if (version === undefined) {
    version = new Promise((resolvePromise) => {
      execFile(
        blender,
        ["--version"],
        { timeout: BLENDER_VERSION_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 1024 * 1024 },
        (error, stdout) => {
          const match = /^Blender (\d{1,3}\.\d{1,3}(?:\.\d{1,3})?)\b/m.exec(String(stdout));
          resolvePromise(error === null && match !== null ? match[1] : undefined);
        },
      );
    });
    versions.set(blender, version);
  }
  return version;
}
