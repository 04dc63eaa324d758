import type { TaskTypeName } from "@dpn/wire";
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
