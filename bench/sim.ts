import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { runMonteCarlo, runNetwork } from "@dpn/sim";
import type { Benchmark, BenchRow } from "./harness.ts";

/**
 * Can the simulator answer issue 5's questions at the sizes it promises? The 5,000,000-device day
 * (goal < 60 s, < 8 GiB) and Monte Carlo throughput with 1 and 2 worker threads (goal: 100,000
 * iterations < 30 s on 2 threads). The network day runs in a child process so its peak RSS is
 * its own, not this process's.
 */
const NETWORK_CHILD = `
import { runNetwork } from "@dpn/sim";
const devices = Number(process.argv[1]);
const r = runNetwork({ devices, seed: "bench/network" });
console.log(JSON.stringify({ seconds: r.elapsedMs / 1000, maxRssKiB: process.resourceUsage().maxRSS, balanced: r.ledger.balanced, gini: r.rewardGini }));
`;

function networkDay(devices: number): { seconds: number; maxRssKiB: number; balanced: boolean } {
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  const child = spawnSync(
    process.execPath,
    ["--import", tsx, "--input-type=module", "-e", NETWORK_CHILD, String(devices)],
    { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) },
  );
  if (child.status !== 0) throw new Error(`network child failed: ${child.stderr}`);
  const last = child.stdout.trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(last) as { seconds: number; maxRssKiB: number; balanced: boolean };
}

const bench: Benchmark = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const sizes = quick ? [100_000, 1_000_000] : [1_000_000, 5_000_000];
  for (const devices of sizes) {
    const r = networkDay(devices);
    rows.push({
      measurement: `network: ${devices.toLocaleString("en-US")} devices, one simulated day (24 hourly steps)`,
      value: Number(r.seconds.toFixed(2)),
      unit: "s",
      "peak RSS (MiB)": Math.round(r.maxRssKiB / 1024),
      note: r.balanced ? "ledger balanced" : "LEDGER NOT BALANCED",
    });
  }
  // Warm the in-process path so the 1-thread figure is not a JIT measurement.
  runNetwork({ devices: 1_000, seed: "warm", hours: 2 });
  const iterations = quick ? 9_000 : 100_000;
  for (const threads of [1, 2]) {
    const cpuBefore = process.cpuUsage();
    const r = await runMonteCarlo({ iterations, seed: "bench/mc", threads });
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    rows.push({
      measurement: `Monte Carlo: ${iterations.toLocaleString("en-US")} iterations (30 days, daily steps), ${threads} thread(s)`,
      value: Math.round(iterations / (r.elapsedMs / 1000)),
      unit: "iterations/s",
      "peak RSS (MiB)": Math.round(process.resourceUsage().maxRSS / 1024),
      note: `wall ${(r.elapsedMs / 1000).toFixed(1)} s, CPU ${cpuSeconds.toFixed(1)} s (all threads), load avg ${(loadavg()[0] ?? 0).toFixed(1)}`,
    });
  }
  return {
    name: "sim",
    question:
      "How long does a 5M-device day take, and how many Monte Carlo iterations per second run on 1 and 2 threads?",
    rows,
    notes: [
      "Network: struct-of-arrays devices, hourly steps, rewards and payments through @dpn/protocol; the RSS is the child process's peak.",
      "Monte Carlo: each iteration is one 30-day path under one of 9 scenarios; the 2-thread wall time includes starting the workers (tsx load, ~1 s).",
      "The machine is shared: other sessions' load slows these figures; quote them with the load average.",
    ],
  };
};

export default bench;
