import {
  assignFragments,
  type Candidate,
  exchangeRate,
  median,
  ONE_DPN,
  reward,
  seededRng,
} from "@dpn/protocol";
import type { Benchmark, BenchRow } from "./harness.ts";

/**
 * How fast are the protocol core's hot paths? The scheduler assigns fragments on every job, the
 * rate and reward are evaluated on every accepted task, and every random choice draws from the
 * auditable SHA-256 generator, whose cost is compared with Math.random (not auditable).
 */
function opsPerSecond(iterations: number, fn: (i: number) => void): number {
  // Warm up first, so the JIT's compile time is not counted as work.
  for (let i = 0; i < Math.min(iterations, 20); i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return iterations / seconds;
}

function candidates(n: number): Candidate[] {
  const rng = seededRng("bench/candidates");
  const regions = ["u33d", "u09t", "gcpv", "dr5r", "9q8y", "xn76", "wx4g", "tdr1", "r3gx", "6gyf"];
  return Array.from({ length: n }, (_, i) => ({
    deviceId: `d${i}`,
    geohash: regions[rng.nextInt(regions.length)] ?? "u33d",
    capabilityCuPerSec: 1 + 10 * rng.nextFloat(),
    reputation: rng.nextFloat(),
  }));
}

const bench: Benchmark = async ({ quick }) => {
  const repeats = quick ? 1 : 5;
  const rows: BenchRow[] = [];
  const measure = (operation: string, iterations: number, fn: (i: number) => void): number => {
    const runs = Array.from({ length: repeats }, () => opsPerSecond(iterations, fn));
    const ops = median(runs);
    rows.push({ operation, "ops/s (median)": Math.round(ops), runs: repeats });
    return ops;
  };

  const rng = seededRng("bench/rng");
  const sha = measure(
    "seededRng.nextFloat (SHA-256 counter mode)",
    quick ? 100_000 : 1_000_000,
    () => rng.nextFloat(),
  );
  const native = measure(
    "Math.random (reference, not auditable)",
    quick ? 100_000 : 1_000_000,
    () => Math.random(),
  );

  const rateInputs = {
    computePriceUsdPerCu: 1.2e-5,
    dpnPriceUsd: 0.14,
    circulation: 100_000n * ONE_DPN,
    demandCu: 1e9,
    rigShare: 0.08,
    longTailShare: 0.65,
  };
  const rate = exchangeRate(rateInputs);
  measure("exchangeRate", quick ? 50_000 : 500_000, () => exchangeRate(rateInputs));
  measure("reward (rate × class factor × decay → base units)", quick ? 50_000 : 500_000, (i) =>
    reward({ cu: 1 + (i % 100), deviceClass: "rig", operatingDays: i % 60 }, rate),
  );
  for (const n of quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]) {
    const pool = candidates(n);
    const fragments = Math.ceil(Math.log2(n));
    measure(
      `assignFragments: ${fragments} fragments over ${n.toLocaleString("en-US")} devices`,
      quick ? 50 : 200,
      (i) => assignFragments({ seed: `job-${i}`, fragments, candidates: pool }),
    );
  }
  return {
    name: "protocol",
    question: "throughput of the protocol core's hot paths",
    rows,
    notes: [`auditable randomness costs ${(native / sha).toFixed(1)}× Math.random per draw`],
  };
};

export default bench;
