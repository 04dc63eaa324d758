import { DpnError } from "@dpn/protocol";
import { FL_INVALID_AGGREGATION, FL_UPDATE_SHAPE_MISMATCH } from "../errors.ts";

/**
 * FedAsync (Xie, Koyejo & Gupta 2019, "Asynchronous Federated Optimization"): the server mixes
 * each device model into the global one as soon as it arrives,
 *
 *   x ← (1 − αₜ)·x + αₜ·x_device,   αₜ = α · s(τ),
 *
 * where τ (staleness) is how many global versions were published since the device fetched the
 * model it trained from, and s discounts stale work. The paper's staleness functions:
 * constant s = 1; polynomial s(τ) = (τ + 1)^(−a); hinge s(τ) = 1 for τ ≤ b, else 1/(a(τ − b) + 1).
 */
export type StalenessFunction =
  | { readonly kind: "constant" }
  | { readonly kind: "polynomial"; readonly a: number }
  | { readonly kind: "hinge"; readonly a: number; readonly b: number };

export function stalenessWeight(fn: StalenessFunction, staleness: number): number {
  if (!Number.isSafeInteger(staleness) || staleness < 0) {
    throw new DpnError(
      FL_INVALID_AGGREGATION,
      `Staleness must be an integer >= 0, got ${staleness}.`,
    );
  }
  switch (fn.kind) {
    case "constant":
      return 1;
    case "polynomial":
      checkNonNegative("a", fn.a);
      return (staleness + 1) ** -fn.a;
    case "hinge":
      checkNonNegative("a", fn.a);
      checkNonNegative("b", fn.b);
      return staleness <= fn.b ? 1 : 1 / (fn.a * (staleness - fn.b) + 1);
    default:
      throw new DpnError(
        FL_INVALID_AGGREGATION,
        `Unknown staleness function "${String((fn as { kind: unknown }).kind)}".`,
      );
  }
}

/** The mixing weight αₜ = α · s(τ), α in (0, 1]. */
export function fedAsyncAlpha(alpha: number, fn: StalenessFunction, staleness: number): number {
  if (!(alpha > 0 && alpha <= 1)) {
    throw new DpnError(FL_INVALID_AGGREGATION, `α must be in (0, 1], got ${alpha}.`);
  }
  return alpha * stalenessWeight(fn, staleness);
}

/** (1 − αₜ)·global + αₜ·device, as a new vector. */
export function fedAsyncMix(
  global: Float32Array,
  deviceModel: Float32Array,
  mixingWeight: number,
): Float32Array {
  if (global.length !== deviceModel.length) {
    throw new DpnError(
      FL_UPDATE_SHAPE_MISMATCH,
      `A device model of ${deviceModel.length} parameters cannot mix into ${global.length}.`,
    );
  }
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = (1 - mixingWeight) * (global[i] as number) + mixingWeight * (deviceModel[i] as number);
  }
  return out;
}

function checkNonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new DpnError(
      FL_INVALID_AGGREGATION,
      `Staleness parameter ${name} must be >= 0, got ${value}.`,
    );
  }
}
