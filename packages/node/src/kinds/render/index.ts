import { existsSync } from "node:fs";
import { costCu, DEFAULT_QUORUM_POLICY, DpnError, planReplication, seededRng } from "@dpn/protocol";
import { compareImages, tileBounds } from "@dpn/render";
import { RenderCapability, type RenderJobSpec, RenderOutput } from "@dpn/wire";
import { requireUsable } from "../../artifactAccess.ts";
import * as tasks from "../../store/tasks.ts";
import type { KindFactory, KindJob, Replication, Verdict } from "../kind.ts";
import { refuse, replicated } from "../plan.ts";
import { acceptedTiles, JobDataWriter, jobData, readImage, stitchReadyFrames } from "./frames.ts";
import { framesOf, itemCount, renderItem } from "./tiles.ts";

/**
 * Tiles in one render job. Each is a fragment of INITIAL_REPLICAS tasks written in the job's
 * opening transaction, and the quote holds all of them at once; 4,096 tiles (512 frames of 2 × 4
 * tiles) keep that transaction well under a second on either store.
 */
export const MAX_RENDER_TILES = 4_096;

/**
 * Replicas of a tile at first: a fresh device's reputation needs two that agree (the quorum adds
 * a third when they do not, up to the policy's maximum).
 */
export const INITIAL_REPLICAS = 2;

/**
 * `render` (docs/protocol.md §Render jobs; §3.2: rigs take rendering, low-value work): one
 * fragment per tile of each frame, rendered by Blender's Cycles on devices that advertise the
 * Blender version the job is pinned to. A tile is checked here (its PNG uploaded, its size the
 * tile's) and accepted by the replication quorum, replicas agreeing within the pixel tolerance
 * of @dpn/render; frames are stitched from accepted tiles as soon as each is complete.
 */
export const renderKind: KindFactory<"render"> = (context) => {
  const writer = new JobDataWriter(context);
  /** Versions pinned by accepts() and not yet written by leased() (a lease may be in flight). */
  const pinning = new Map<string, string>();

  const tileOf = (spec: RenderJobSpec, item: number) => {
    const { tile } = renderItem(spec, item);
    return tileBounds(spec.width, spec.height, tile);
  };

  const decided = (job: KindJob<"render">, all: Parameters<typeof stitchReadyFrames>[3]) =>
    writer.update(job.row.id, (data) =>
      stitchReadyFrames(context, data, job.spec, all, job.row.requester),
    );

  return {
    type: "render",
    async plan({ spec, requester }) {
      // Asked first, so a stranger cannot learn whether someone stored these bytes.
      await requireUsable(context.store.db, spec.scene, requester, "The scene");
      if (!context.artifacts.has(spec.scene)) {
        throw new DpnError("ARTIFACT_NOT_FOUND", `The scene ${spec.scene} has not been uploaded.`, {
          hint: "Upload the .blend file first (PUT /v1/artifacts/{sha256}), then submit the job.",
        });
      }
      const items = itemCount(spec);
      if (items > MAX_RENDER_TILES) {
        throw new DpnError(
          "JOB_TOO_LARGE",
          `The job has ${items} tiles; a render job may have at most ${MAX_RENDER_TILES}.`,
          { hint: "Render fewer frames or fewer tiles per frame, in several jobs." },
        );
      }
      const fragments = Array.from({ length: items }, (_, item) => {
        const bounds = tileOf(spec, item);
        const pixels = bounds.width * bounds.height;
        return {
          items: [item, item + 1] as const,
          cu: costCu(
            { type: "render", pixels, samplesPerPixel: spec.samples },
            context.params.costModel,
          ),
        };
      });
      return { tasks: replicated(fragments, INITIAL_REPLICAS), kindData: { frames: {} } };
    },
    async accepts(device, _task, job) {
      const capability = RenderCapability.safeParse(device.capabilities.render);
      if (!capability.success) return false;
      const persisted = jobData(job.row).blender;
      if (persisted !== undefined) {
        pinning.delete(job.row.id);
        return persisted === capability.data.blender;
      }
      // No await between the check and the pin: two devices dispatched at once cannot both pin.
      const pinned = pinning.get(job.row.id);
      if (pinned === undefined) pinning.set(job.row.id, capability.data.blender);
      return (pinned ?? capability.data.blender) === capability.data.blender;
    },
    async leased(_device, _task, job) {
      const blender = pinning.get(job.row.id);
      if (blender === undefined) return;
      await writer.update(job.row.id, async (data) =>
        data.blender === undefined ? { ...data, blender } : undefined,
      );
    },
    async lease(task, job) {
      return {
        artifacts: { scene: job.spec.scene },
        items: [renderItem(job.spec, task.item_from)],
      };
    },
    async verify(task, outputs, job): Promise<Verdict> {
      if (outputs.length !== 1) {
        return refuse("RESULT_WRONG_COUNT", `expected 1 output, got ${outputs.length}`);
      }
      const parsed = RenderOutput.safeParse(outputs[0]);
      if (!parsed.success) {
        return refuse("RESULT_MALFORMED", "a render output is not { image, bytes, width, height }");
      }
      const output = parsed.data;
      const bounds = tileOf(job.spec, task.item_from);
      if (output.width !== bounds.width || output.height !== bounds.height) {
        return refuse(
          "RESULT_WRONG",
          `the tile is ${bounds.width}×${bounds.height}, the image ${output.width}×${output.height}`,
        );
      }
      if (!existsSync(context.artifacts.path(output.image))) {
        return refuse("RESULT_ARTIFACT_MISSING", `the image ${output.image} was not uploaded`);
      }
      if (context.artifacts.size(output.image) !== output.bytes) {
        return refuse("RESULT_WRONG", "the uploaded image's size is not the one reported");
      }
      try {
        const image = readImage(context, output.image, bounds.width * bounds.height);
        if (image.width !== bounds.width || image.height !== bounds.height) {
          return refuse("RESULT_WRONG", "the PNG's size is not the tile's");
        }
      } catch (error) {
        return refuse("RESULT_MALFORMED", error instanceof Error ? error.message : String(error));
      }
      return { ok: true };
    },
    replication(task, job): Replication {
      const bounds = tileOf(job.spec, task.item_from);
      const pixels = bounds.width * bounds.height;
      const imageOf = (row: { output_json: string | null }) => {
        const output = RenderOutput.parse((JSON.parse(row.output_json ?? "[]") as unknown[])[0]);
        return readImage(context, output.image, pixels);
      };
      return {
        policy: DEFAULT_QUORUM_POLICY,
        spotCheck: (reputation) =>
          planReplication(reputation, seededRng(`${job.row.seed}:spot:${task.idx}`)).spotCheck,
        agree: async (a, b) => compareImages(imageOf(a), imageOf(b)).agree,
        inconclusive: "fail-job",
        unfunded: "stop-job",
        codes: {
          pending: "QUORUM_PENDING",
          outvoted: "QUORUM_OUTVOTED",
          reason: "other replicas of this tile agreed on another image",
        },
      };
    },
    async ended(task, job) {
      if (task.state !== "done") return;
      await decided(job, await tasks.tasksOf(context.store.db, job.row.id));
    },
    async result(job, all) {
      const data = await decided(job, all);
      const accepted = acceptedTiles(all);
      return {
        outputs: Array.from({ length: itemCount(job.spec) }, (_, i) => accepted.get(i) ?? null),
        result: {
          blender: data.blender ?? null,
          frames: framesOf(job.spec).map((frame) => ({ frame, image: data.frames[frame] ?? null })),
        },
      };
    },
  };
};
