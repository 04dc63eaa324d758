import { DpnError } from "@dpn/protocol";
import { blenderVersion, renderTile, tileBounds } from "@dpn/render";
import type { RenderOutput } from "@dpn/wire";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import type { Executor } from "./kind.ts";

/**
 * `render`: renders each leased tile of the lease's `scene` artifact with Blender's Cycles on the
 * CPU (@dpn/render), uploads the tile's PNG to the node as an artifact and returns its hash and
 * size. Offered only where Blender runs, advertising its version: replicas compared with each
 * other must come from the same Blender. Blender picks its thread count (one per core); several
 * slots rendering at once share the cores.
 */
export const renderExecutor: Executor<"render"> = {
  type: "render",
  async probe() {
    const blender = await blenderVersion();
    return blender === undefined ? undefined : { blender };
  },
  async run(lease, { cache, handles, upload }, signal) {
    const scene = lease.artifacts.scene;
    if (scene === undefined) {
      throw new DpnError(DEVICE_TASK_INVALID, "A render lease came without its scene artifact.", {
        hint: "This is a node bug; the lease is dropped and will expire.",
      });
    }
    const file = await cache.acquire(scene);
    handles.push(file);
    const outputs: RenderOutput[] = [];
    for (const item of lease.items) {
      const png = await renderTile({
        scenePath: file.path,
        frame: item.frame,
        tile: item.tile,
        width: item.width,
        height: item.height,
        samples: item.samples,
        signal,
      });
      const image = await upload(png, signal);
      // renderTile checked that the PNG is exactly the tile's pixels.
      const { width, height } = tileBounds(item.width, item.height, item.tile);
      outputs.push({ image, bytes: png.length, width, height });
    }
    return outputs;
  },
};
