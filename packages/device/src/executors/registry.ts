import { DpnError } from "@dpn/protocol";
import { type Capabilities, TASK_WIRES, type TaskTypeName } from "@dpn/wire";
import { DEVICE_OPTIONS_INVALID } from "../errors.ts";
import { flFeaturesExecutor } from "./flFeatures.ts";
import { flTrainExecutor } from "./flTrain.ts";
import { hashExecutor } from "./hash.ts";
import type { Executor } from "./kind.ts";
import { renderExecutor } from "./render.ts";
import { sqlAnalyticsExecutor } from "./sqlAnalytics.ts";
import { zkGroth16Executor } from "./zkGroth16.ts";

/** Every task kind's executor on a device; a kind without one does not compile. */
export const EXECUTORS = {
  hash: hashExecutor,
  "zk-groth16": zkGroth16Executor,
  "sql-analytics": sqlAnalyticsExecutor,
  "fl-train": flTrainExecutor,
  "fl-features": flFeaturesExecutor,
  render: renderExecutor,
} satisfies { [T in TaskTypeName]: Executor<T> };

/** What a device offers the node at registration: the kinds it runs here and their capabilities. */
export interface KindOffer {
  readonly taskTypes: readonly TaskTypeName[];
  /** Kind → capability, for the offered kinds whose wire takes one (the register frame's field). */
  readonly capabilities: Capabilities;
}

/**
 * The kinds among `requested` this device can run, each executor probed once (a render device
 * without Blender does not offer `render`), with what each advertises. The order of `requested`
 * is kept. DEVICE_OPTIONS_INVALID when none can run: the device would have nothing to register.
 */
export async function offerKinds(
  requested: readonly TaskTypeName[],
  executors: { readonly [T in TaskTypeName]: Executor<T> } = EXECUTORS,
): Promise<KindOffer> {
  const probed = await Promise.all(
    requested.map(async (type) => {
      const executor = executors[type] as Executor<TaskTypeName>;
      return { type, capability: executor.probe === undefined ? {} : await executor.probe() };
    }),
  );
  const capabilities: Record<string, unknown> = {};
  const taskTypes: TaskTypeName[] = [];
  for (const { type, capability } of probed) {
    if (capability === undefined) continue;
    taskTypes.push(type);
    if (TASK_WIRES[type].capability !== undefined) capabilities[type] = capability;
  }
  if (taskTypes.length === 0) {
    throw new DpnError(
      DEVICE_OPTIONS_INVALID,
      `None of the task types asked for (${requested.join(", ")}) can run on this device.`,
      { hint: "render needs Blender (apt-get install --no-install-recommends blender)." },
    );
  }
  return { taskTypes, capabilities };
}
