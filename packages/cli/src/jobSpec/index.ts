import type { DpnClient } from "@dpn/sdk";
import type { JobResult, TaskTypeName } from "@dpn/wire";
import { flFeaturesSpec } from "./flFeatures.ts";
import { flTrainSpec } from "./flTrain.ts";
import { hashSpec } from "./hash.ts";
import { type BuiltSpec, invalidOption, type JobSpecBuilder, type JobSpecOptions } from "./kind.ts";
import { renderSpec } from "./render.ts";
import { sqlAnalyticsSpec } from "./sqlAnalytics.ts";
import { zkGroth16Spec } from "./zkGroth16.ts";

export type { BuiltSpec, JobSpecBuilder, JobSpecOptions } from "./kind.ts";

/** Every kind's spec builder; a kind without one does not compile. */
export const JOB_SPECS = {
  hash: hashSpec,
  "zk-groth16": zkGroth16Spec,
  "sql-analytics": sqlAnalyticsSpec,
  "fl-train": flTrainSpec,
  "fl-features": flFeaturesSpec,
  render: renderSpec,
} satisfies { [T in TaskTypeName]: JobSpecBuilder<T> };

function builderOf(type: string): JobSpecBuilder<TaskTypeName> {
  const builder = (JOB_SPECS as Record<string, JobSpecBuilder<TaskTypeName>>)[type];
  if (builder === undefined || !Object.hasOwn(JOB_SPECS, type)) {
    throw invalidOption(
      `Unknown job type ${type}.`,
      `Use --type ${Object.keys(JOB_SPECS).join(", ")}.`,
    );
  }
  return builder;
}

/** Checks what can be checked without a node or keys, so a bad job fails first and fast. */
export function precheckSpec(o: JobSpecOptions): void {
  builderOf(o.type).precheck?.(o);
}

/** Builds the job's spec from command-line options, uploading the artifacts it needs. */
export function buildSpec(client: DpnClient, o: JobSpecOptions): Promise<BuiltSpec> {
  return builderOf(o.type).build(client, o);
}

/**
 * Writes a finished job's result under `out`: the kind's own files where it has them (a render
 * job's frames), otherwise undefined and the caller writes the JSON.
 */
export function writeResultFiles(
  client: DpnClient,
  type: string,
  result: JobResult,
  out: string,
): Promise<string> | undefined {
  return builderOf(type).writeResult?.(client, result, out);
}
