import { readFileSync } from "node:fs";
import { decodePng, encodePng, type RgbaImage, stitchTiles } from "@dpn/render";
import { type RenderJobSpec, RenderOutput } from "@dpn/wire";
import * as jobs from "../../store/jobs.ts";
import * as records from "../../store/records.ts";
import type { JobRow, TaskRow } from "../../store/schema.ts";
import type { KindContext } from "../kind.ts";
import { frameItems, framesOf, renderItem } from "./tiles.ts";

/**
 * What a render job keeps on its row: the Blender version its replicas render with (pinned at the
 * first lease, since replicas of other versions need not agree within the tolerance) and each
 * stitched frame's artifact.
 */
export interface RenderJobData {
  readonly blender?: string;
  readonly frames: Readonly<Record<string, string>>;
}

export function jobData(row: JobRow): RenderJobData {
  if (row.kind_data === null) return { frames: {} };
  const data = JSON.parse(row.kind_data) as Partial<RenderJobData>;
  return { ...data, frames: data.frames ?? {} };
}

/** The accepted tile of each item: a done task's output (agreeing replicas are within tolerance). */
export function acceptedTiles(tasks: readonly TaskRow[]): Map<number, RenderOutput> {
  const accepted = new Map<number, RenderOutput>();
  for (const task of tasks) {
    if (task.state !== "done" || task.output_json === null || accepted.has(task.item_from))
      continue;
    const parsed = RenderOutput.safeParse((JSON.parse(task.output_json) as unknown[])[0]);
    if (parsed.success) accepted.set(task.item_from, parsed.data);
  }
  return accepted;
}

/** An image artifact, decoded; a missing or oversized one is a coded error of @dpn/render. */
export function readImage(context: KindContext, sha256: string, maxPixels: number): RgbaImage {
  return decodePng(readFileSync(context.artifacts.path(sha256)), maxPixels);
}

/**
 * Stitches every frame whose tiles have all been accepted and is not stitched yet, and stores it
 * as an artifact; returns the frames, or undefined when nothing new was stitched.
 */
export async function stitchReadyFrames(
  context: KindContext,
  data: RenderJobData,
  spec: RenderJobSpec,
  tasks: readonly TaskRow[],
  requester: string,
): Promise<RenderJobData | undefined> {
  const accepted = acceptedTiles(tasks);
  const frames: Record<string, string> = { ...data.frames };
  let stitched = false;
  for (const frame of framesOf(spec)) {
    if (frames[frame] !== undefined) continue;
    const [from, to] = frameItems(spec, frame);
    const tiles: Array<{ tile: ReturnType<typeof renderItem>["tile"]; image: RgbaImage }> = [];
    for (let i = from; i < to; i++) {
      const output = accepted.get(i);
      if (output === undefined) break;
      tiles.push({
        tile: renderItem(spec, i).tile,
        image: readImage(context, output.image, output.width * output.height),
      });
    }
    if (tiles.length !== to - from) continue;
    const png = encodePng(stitchTiles(spec.width, spec.height, tiles));
    const sha256 = context.artifacts.put(png);
    await records.recordArtifact(context.store.db, sha256, png.length, "node", context.now());
    // The frame is the requester's result: theirs to read, nobody else's.
    await records.grantArtifact(context.store.db, sha256, requester, context.now());
    frames[frame] = sha256;
    stitched = true;
  }
  return stitched ? { ...data, frames } : undefined;
}

/**
 * The one writer of render jobs' kind_data: updates of a job run one at a time on its fresh row,
 * so a version pin and a stitched frame noted at once do not overwrite each other.
 */
export class JobDataWriter {
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly context: KindContext) {}

  update(
    jobId: string,
    change: (data: RenderJobData, row: JobRow) => Promise<RenderJobData | undefined>,
  ): Promise<RenderJobData> {
    const run = async (): Promise<RenderJobData> => {
      const row = await jobs.job(this.context.store.db, jobId);
      if (row === undefined) return { frames: {} };
      const data = jobData(row);
      const next = await change(data, row);
      if (next === undefined) return data;
      await jobs.setJobKindData(this.context.store.db, jobId, next);
      return next;
    };
    const previous = this.chains.get(jobId) ?? Promise.resolve();
    const next = previous.then(run, run);
    const settled = next.catch(() => undefined);
    this.chains.set(jobId, settled);
    void settled.then(() => {
      if (this.chains.get(jobId) === settled) this.chains.delete(jobId);
    });
    return next;
  }
}
