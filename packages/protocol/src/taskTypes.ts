import type { DeviceClass, Layer } from "./devices.ts";
import { oneOf } from "./validate.ts";

/**
 * Task types, their layer and their value class (docs/protocol.md §Task classification).
 * §3.2: "ASIC mining machines are only allowed to handle low-value tasks (such as rendering),
 * and ordinary devices are given priority in allocating high-value tasks (such as ZK proofs)."
 * §3.5: low-density work goes to the light layer, model training and ZK proofs to the heavy one.
 */
export const TASK_TYPES = [
  "zk-groth16",
  "fl-train",
  "fl-features",
  "sql-analytics",
  "render",
  "hash",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];
export type TaskValue = "high" | "low";

export interface TaskTypeSpec {
  /** The layer a device must be in; "any" admits both. */
  readonly layer: Layer | "any";
  readonly value: TaskValue;
  /** How a result is checked before anything is paid (docs/protocol.md §Task classification). */
  readonly verification: string;
}

export const TASK_TYPE_SPECS: Readonly<Record<TaskType, TaskTypeSpec>> = {
  "zk-groth16": {
    layer: "heavy",
    value: "high",
    verification: "the proof verifies against the job's verification key",
  },
  "fl-train": {
    layer: "heavy",
    value: "high",
    verification: "update-norm bound, robust aggregation, seeded spot re-execution",
  },
  // §3.5: light nodes clean data and extract features (under local DP) for the heavy ones to
  // train on. High value: it is training data, so rigs do not take it.
  "fl-features": {
    layer: "light",
    value: "high",
    verification: "shape, finiteness and label range; the device's privacy budget",
  },
  "sql-analytics": {
    layer: "light",
    value: "low",
    verification: "k-of-n replication quorum",
  },
  render: { layer: "any", value: "low", verification: "replication quorum or pixel spot checks" },
  hash: { layer: "any", value: "low", verification: "recomputation" },
};

export const UNKNOWN_TASK_TYPE = "PROTOCOL_UNKNOWN_TASK_TYPE";

export function parseTaskType(value: string): TaskType {
  return oneOf("taskType", value, TASK_TYPES, UNKNOWN_TASK_TYPE);
}

export interface EligibilityInput {
  readonly deviceClass: DeviceClass;
  readonly layer: Layer;
}

/**
 * Whether a device may take a task of this type (docs/protocol.md §Task classification):
 * rigs never take high-value work; heavy-layer work needs a heavy-layer device; light work may
 * run anywhere, because a heavy device doing light work harms no one.
 */
export function isEligible(device: EligibilityInput, taskType: TaskType): boolean {
  const spec = TASK_TYPE_SPECS[taskType];
  if (spec.value === "high" && device.deviceClass === "rig") return false;
  if (spec.layer === "heavy" && device.layer !== "heavy") return false;
  return true;
}
