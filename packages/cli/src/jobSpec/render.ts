import { closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { costCu, DpnError } from "@dpn/protocol";
import { RenderJobSpec, Sha256Hex } from "@dpn/wire";
import { z } from "zod";
import { invalidOption, type JobSpecBuilder, type JobSpecOptions } from "./kind.ts";

/** What the node's render kind returns as a job's result: each frame stitched, as an artifact. */
const RenderResult = z.object({
  /** The Blender the job is pinned to; null until a device has leased a tile. */
  blender: z.string().nullable(),
  frames: z.array(z.object({ frame: z.number().int().min(0), image: Sha256Hex.nullable() })),
});

/**
 * A .blend starts with "BLENDER", or is compressed: gzip before Blender 3.0, zstd since. Checked
 * so that a wrong file fails here rather than on every device.
 */
const BLEND_MAGICS = [
  Buffer.from("BLENDER", "latin1"),
  Buffer.from([0x1f, 0x8b]),
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
];

const DEFAULT_SIZE = "320x240";
const DEFAULT_SAMPLES = "16";
/**
 * Each tile is rendered by two devices whose images must agree (the replication quorum): the
 * default budget covers both.
 */
const REPLICAS = 2;

function pair(text: string, separator: RegExp, name: string, example: string): [number, number] {
  const match = new RegExp(`^(\\d+)${separator.source}(\\d+)$`, "i").exec(text.trim());
  if (match === null)
    throw invalidOption(`${name} ${text} is not understood.`, `For example ${name} ${example}.`);
  return [Number(match[1]), Number(match[2])];
}

/** Everything of the spec but the scene's hash, checked by the wire schema the node uses. */
function specWithout(o: JobSpecOptions, scene: string): RenderJobSpec {
  if (o.frames === undefined) {
    throw invalidOption("A render job needs --frames.", "For example --frames 1-8, or --frames 5.");
  }
  const [first, last] = /^\d+$/.test(o.frames.trim())
    ? [Number(o.frames), Number(o.frames)]
    : pair(o.frames, /-/, "--frames", "1-8");
  const [width, height] = pair(o.size ?? DEFAULT_SIZE, /x/, "--size", "320x240");
  const [columns, rows] = pair(o.tiles ?? "1x1", /x/, "--tiles", "2x2");
  const parsed = RenderJobSpec.safeParse({
    type: "render",
    scene,
    frames: { first, last },
    width,
    height,
    samples: Number(o.samples ?? DEFAULT_SAMPLES),
    ...(columns === 1 && rows === 1 ? {} : { tiles: { columns, rows } }),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidOption(
      `The render job is invalid: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}.`,
      "Frames 0–1,048,574 (at most 1,000 per job), size 8–8192 per side, samples 1–4096, tiles up to 8x8.",
    );
  }
  return parsed.data;
}

function checkScene(path: string | undefined): string {
  if (path === undefined) {
    throw invalidOption("A render job needs --scene.", "Pass the .blend file to render.");
  }
  const head = Buffer.alloc(7);
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new DpnError("CLI_INVALID_OPTION", `Cannot read the scene ${path}.`, {
      hint: "Pass the path of a .blend file.",
      cause: error,
    });
  }
  if (!BLEND_MAGICS.some((magic) => head.subarray(0, magic.length).equals(magic))) {
    throw invalidOption(
      `${path} is not a Blender scene.`,
      "Save the scene from Blender as .blend.",
    );
  }
  return path;
}

/**
 * A render job: `--scene` (uploaded as an artifact), `--frames 1-8`, `--tiles 2x2` (tasks per
 * frame), `--size 320x240` and `--samples 16`, which override the scene's own. The result is one
 * stitched PNG per frame; `dpn job result <id> --out <dir>` writes them as frame-0001.png, ….
 */
export const renderSpec: JobSpecBuilder<"render"> = {
  type: "render",
  precheck(o) {
    checkScene(o.scene);
    specWithout(o, "0".repeat(64));
  },
  async build(client, o) {
    const path = checkScene(o.scene);
    const unhashed = specWithout(o, "0".repeat(64));
    const spec = { ...unhashed, scene: await client.uploadArtifact(readFileSync(path)) };
    const frames = spec.frames.last - spec.frames.first + 1;
    const cu =
      frames *
      REPLICAS *
      costCu({ type: "render", pixels: spec.width * spec.height, samplesPerPixel: spec.samples });
    return { spec, cu };
  },
  async writeResult(client, result, out) {
    const parsed = RenderResult.safeParse(result.result);
    if (!parsed.success) {
      throw new DpnError("CLI_RESULT_UNAVAILABLE", `Job ${result.jobId} has no frames yet.`, {
        hint: `It is ${result.state}; wait for it (dpn job status ${result.jobId}).`,
      });
    }
    mkdirSync(out, { recursive: true });
    let written = 0;
    const missing: number[] = [];
    for (const { frame, image } of parsed.data.frames) {
      if (image === null) {
        missing.push(frame);
        continue;
      }
      const bytes = await client.downloadArtifact(image);
      writeFileSync(join(out, `frame-${String(frame).padStart(4, "0")}.png`), bytes);
      written += 1;
    }
    return `${written} frame(s) written to ${out}${parsed.data.blender === null ? "" : ` (Blender ${parsed.data.blender})`}${missing.length === 0 ? "" : `; not rendered: ${missing.join(", ")}`}`;
  },
};
