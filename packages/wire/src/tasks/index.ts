import { z } from "zod";
import { flFeatures } from "./flFeatures.ts";
import { flTrain } from "./flTrain.ts";
import { hash } from "./hash.ts";
import { render } from "./render.ts";
import { sqlAnalytics } from "./sqlAnalytics.ts";
import { zkGroth16 } from "./zkGroth16.ts";

export * from "./flFeatures.ts";
export * from "./flTrain.ts";
export * from "./hash.ts";
export * from "./kind.ts";
export * from "./render.ts";
export * from "./sqlAnalytics.ts";
export * from "./zkGroth16.ts";

/**
 * Every task kind's wire shape, by name. Adding a kind adds one module here and one entry below;
 * every union (job specs, leases) and every registry in the other packages is derived from it,
 * so a kind missing anywhere is a type error.
 */
export const TASK_WIRES = {
  hash,
  "zk-groth16": zkGroth16,
  "sql-analytics": sqlAnalytics,
  "fl-train": flTrain,
  "fl-features": flFeatures,
  render,
} as const;

export type TaskTypeName = keyof typeof TASK_WIRES;
export const TASK_TYPE_NAMES = Object.keys(TASK_WIRES) as [TaskTypeName, ...TaskTypeName[]];
export const TaskTypeName = z.enum(TASK_TYPE_NAMES);

/** The spec of a job of kind T, as the requester submits it. */
export type SpecOf<T extends TaskTypeName> = z.infer<(typeof TASK_WIRES)[T]["spec"]>;
/** One leased item of kind T. */
export type ItemOf<T extends TaskTypeName> = z.infer<(typeof TASK_WIRES)[T]["item"]>;
/** One output of kind T. */
export type OutputOf<T extends TaskTypeName> = z.infer<(typeof TASK_WIRES)[T]["output"]>;

export const JobSpec = z.discriminatedUnion("type", [
  hash.spec,
  zkGroth16.spec,
  sqlAnalytics.spec,
  flTrain.spec,
  flFeatures.spec,
  render.spec,
]);
export type JobSpec = z.infer<typeof JobSpec>;

/**
 * What a device advertises per kind it runs, where the kind needs more than its name (the
 * renderer's version, say). Validated against each kind's capability schema.
 */
export const Capabilities = z
  .record(z.string(), z.unknown())
  .superRefine((capabilities, context) => {
    for (const [type, value] of Object.entries(capabilities)) {
      const wire = (TASK_WIRES as Record<string, { capability: z.ZodType | undefined }>)[type];
      if (wire === undefined || wire.capability === undefined) {
        context.addIssue({
          code: "custom",
          path: [type],
          message: `${type} takes no capability`,
        });
        continue;
      }
      const parsed = wire.capability.safeParse(value);
      if (!parsed.success) {
        context.addIssue({
          code: "custom",
          path: [type, ...(parsed.error.issues[0]?.path ?? [])],
          message: parsed.error.issues[0]?.message ?? "invalid capability",
        });
      }
    }
  });
export type Capabilities = z.infer<typeof Capabilities>;
