import { DpnError } from "@dpn/protocol";
import {
  FL_UPDATE_NORM_EXCEEDED,
  FL_UPDATE_NOT_FINITE,
  FL_UPDATE_SHAPE_MISMATCH,
} from "./errors.ts";
import { l2Norm, scaled } from "./vectors.ts";

/**
 * Admission checks on a device's update before it reaches aggregation (docs/protocol.md: fl-train
 * is verified by "update-norm bound, robust aggregation, seeded spot re-execution").
 */

/** The update has the model's parameter count and only finite values, or a coded error. */
export function checkUpdate(update: Float32Array, parameters: number): Float32Array {
  if (!(update instanceof Float32Array) || update.length !== parameters) {
    throw new DpnError(
      FL_UPDATE_SHAPE_MISMATCH,
      `The update has ${update?.length} parameters, the model ${parameters}.`,
      { hint: "Updates must be computed on the job's model spec." },
    );
  }
  for (let i = 0; i < update.length; i++) {
    if (!Number.isFinite(update[i] as number)) {
      throw new DpnError(FL_UPDATE_NOT_FINITE, `Update coordinate ${i} is not finite.`, {
        hint: "The device's training diverged or the update is forged; it is refused.",
        details: { index: i },
      });
    }
  }
  return update;
}

export type NormPolicy = "clip" | "reject";

export interface BoundedUpdate {
  readonly update: Float32Array;
  /** L2 norm before bounding. */
  readonly norm: number;
  readonly clipped: boolean;
}

/**
 * Bounds an update's L2 norm to `maxNorm`: "clip" scales it down to the bound (norm clipping, as
 * in DP-FedAvg, McMahan et al. 2018), "reject" refuses it with FL_UPDATE_NORM_EXCEEDED (for a
 * server that treats an oversized update as evidence of a faulty or hostile device).
 */
export function boundUpdateNorm(
  update: Float32Array,
  maxNorm: number,
  policy: NormPolicy,
): BoundedUpdate {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new DpnError(FL_UPDATE_NORM_EXCEEDED, `The norm bound must be > 0, got ${maxNorm}.`);
  }
  const norm = l2Norm(update);
  if (!Number.isFinite(norm)) {
    throw new DpnError(FL_UPDATE_NOT_FINITE, "The update's norm is not finite.");
  }
  if (norm <= maxNorm) return { update, norm, clipped: false };
  if (policy === "reject") {
    throw new DpnError(
      FL_UPDATE_NORM_EXCEEDED,
      `The update's L2 norm ${norm.toPrecision(4)} exceeds the bound ${maxNorm}.`,
      {
        hint: "The device is refused for this round; honest updates stay within the job's bound.",
        details: { norm, maxNorm },
      },
    );
  }
  return { update: scaled(update, maxNorm / norm), norm, clipped: true };
}
