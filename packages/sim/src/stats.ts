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

/**
 * Gini coefficient of a population in groups: `weights[i]` members each holding `values[i]`
 * (non-negative). G = Σᵢ Σⱼ wᵢ wⱼ |xᵢ − xⱼ| / (2 W² μ), W = Σ w, μ = Σ w x / W. It ignores the
 * spread within a group, so it is the between-group part of the population's Gini.
 */
export function weightedGini(values: Float64Array, weights: Float64Array): number {
  let totalWeight = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const w = weights[i] ?? 0;
    totalWeight += w;
    total += w * (values[i] as number);
  }
  if (totalWeight <= 0 || total <= 0) return 0;
  let spread = 0;
  for (let i = 0; i < values.length; i++) {
    for (let j = 0; j < values.length; j++) {
      spread +=
        (weights[i] ?? 0) *
        (weights[j] ?? 0) *
        Math.abs((values[i] as number) - (values[j] as number));
    }
  }
  // 2 W² μ = 2 W · total.
  return spread / (2 * totalWeight * total);
}
