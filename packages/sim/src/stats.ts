/** Summary statistics for the simulator's reports. */

/** Wilson score interval for a binomial proportion at 95% (z = 1.96): sound near 0 and 1. */
export function wilson95(successes: number, trials: number): [number, number] {
  if (trials <= 0) return [0, 1];
  const z = 1.959963984540054;
  const p = successes / trials;
  const denominator = 1 + (z * z) / trials;
  const centre = (p + (z * z) / (2 * trials)) / denominator;
  const half =
    (z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Nearest-rank percentile (p in [0, 100]) of values sorted ascending. */
export function percentileSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** Percentile from a histogram of counts: the upper edge of the bin holding the p-th value. */
export function histogramPercentile(counts: Float64Array, binWidth: number, p: number): number {
  let total = 0;
  for (const count of counts) total += count;
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let bin = 0; bin < counts.length; bin++) {
    seen += counts[bin] as number;
    if (seen >= rank) return (bin + 1) * binWidth;
  }
  return counts.length * binWidth;
}

/**
 * Gini coefficient of non-negative values (0 = everyone equal, 1 = one holds everything).
 * Sorts a copy: G = Σ (2i − n − 1) x_i / (n Σ x), i = 1…n ascending.
 */
export function gini(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i] as number;
    total += x;
    weighted += (2 * (i + 1) - n - 1) * x;
  }
  return total > 0 ? weighted / (n * total) : 0;
}
