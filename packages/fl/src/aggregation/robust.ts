import { DpnError } from "@dpn/protocol";
import { FL_INVALID_AGGREGATION } from "../errors.ts";
import { checkUpdates } from "./fedAvg.ts";

/**
 * Byzantine-robust aggregates (Yin et al. 2018, "Byzantine-robust distributed learning"), per
 * coordinate and unweighted, so that no device can buy influence with a large example count:
 *
 * - median: with m updates of which fewer than half are malicious, every coordinate of the result
 *   lies between the smallest and largest honest value of that coordinate;
 * - trimmed mean: drop the ⌊β·m⌋ largest and smallest values of each coordinate, average the rest;
 *   the same guarantee holds while at most ⌊β·m⌋ updates are malicious.
 */

export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  const d = checkUpdates(updates);
  const m = updates.length;
  const column = new Float64Array(m);
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    for (let u = 0; u < m; u++) column[u] = (updates[u] as Float32Array)[i] as number;
    column.sort();
    const mid = m >> 1;
    out[i] =
      m % 2 === 1
        ? (column[mid] as number)
        : ((column[mid - 1] as number) + (column[mid] as number)) / 2;
  }
  return out;
}

/** Largest β: trimming half from each side would leave nothing. */
export const MAX_TRIM_FRACTION = 0.49;

export function trimmedMean(updates: readonly Float32Array[], trimFraction: number): Float32Array {
  const d = checkUpdates(updates);
  const m = updates.length;
  if (!(trimFraction >= 0 && trimFraction <= MAX_TRIM_FRACTION)) {
    throw new DpnError(
      FL_INVALID_AGGREGATION,
      `The trim fraction must be in [0, ${MAX_TRIM_FRACTION}], got ${trimFraction}.`,
      { hint: "Trim at least the share of devices you expect to be malicious, e.g. 0.2." },
    );
  }
  const trim = Math.floor(trimFraction * m);
  const kept = m - 2 * trim;
  const column = new Float64Array(m);
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    for (let u = 0; u < m; u++) column[u] = (updates[u] as Float32Array)[i] as number;
    column.sort();
    let sum = 0;
    for (let u = trim; u < m - trim; u++) sum += column[u] as number;
    out[i] = sum / kept;
  }
  return out;
}
