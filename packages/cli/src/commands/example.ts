import { formatDpn } from "@dpn/protocol";
import { type WorkedExample, workedExample } from "./workedExample.ts";

export interface ExampleOptions {
  readonly devices: number;
  readonly seed: string;
  readonly proofs: number;
  readonly json: boolean;
}

const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;
const dpn = (units: bigint): string => `${formatDpn(units, 6)} DPN`;
const num = (x: number, digits = 2): string =>
  x.toLocaleString("en-US", { maximumFractionDigits: digits });

export function renderWorkedExample(ex: WorkedExample): string {
  const { network, oracle, computeOracle, rate, job, rigJob, burning, split } = ex;
  const lines: string[] = [];
  const out = (line = ""): void => {
    lines.push(line);
  };
  out(`DPN protocol worked example (seed "${ex.options.seed}")`);
  out("Every number below is computed by @dpn/protocol; see docs/protocol.md for each rule.");
  out();
  out(`1. Network: ${num(network.total, 0)} devices (seeded)`);
  out(
    `   ${Object.entries(network.byClass)
      .map(([c, n]) => `${c} ${n}`)
      .join(", ")}`,
  );
  out(
    `   rig share of capacity ${pct(network.rigShare)}, long-tail share of devices ${pct(network.longTailShare)}`,
  );
  out();
  out(
    "2. Oracle rounds (§3.3): five DPN/USD feeds and five compute-price feeds, medians (simulated readings)",
  );
  out(
    `   live: ${oracle.liveFeeds.join(", ")}; published ${oracle.value.toFixed(5)} USD (${oracle.status})`,
  );
  out(`   one feed reported 0.9 USD; the median ignored it (median ${oracle.median.toFixed(5)})`);
  out(
    `   compute: live ${computeOracle.liveFeeds.length}; published P_cu = ${computeOracle.value} USD/CU (${computeOracle.status})`,
  );
  out();
  out("3. Exchange rate (§3.1), CU per DPN");
  out(`   anchor Base_Price / P_cu = 0.15 / ${computeOracle.value} = ${num(rate.anchorCuPerDpn)}`);
  out(
    `   supply-demand factor ${rate.supplyDemandFactor.toFixed(4)} (imbalance ${rate.supplyDemandImbalance.toFixed(4)})`,
  );
  out(`   discount index DI ${rate.discountIndex.toFixed(4)}`);
  out(
    `   Rate = ${num(rate.cuPerDpn)} CU per DPN; MSF ${rate.msf} (rigs), EHF ${rate.ehf} (long tail)`,
  );
  out();
  out(
    `4. Job: ${job.work.type === "zk-groth16" ? `${job.work.proofs} Groth16 proofs of ${job.work.constraints} constraints` : job.work.type}`,
  );
  out(`   cost ${num(job.cu, 4)} CU, quote ${dpn(job.price)}`);
  out(
    `   ${job.eligible} eligible devices (heavy layer, no rigs) → ⌈log2 ${job.eligible}⌉ capped by ${job.sizes.reduce((a, b) => a + b, 0)} proofs = ${job.fragments} fragments of ${job.sizes.join("/")}`,
  );
  for (const a of job.assignments) {
    out(
      `   fragment ${String(a.fragment).padStart(2)} → ${a.deviceId} (${a.deviceClass}, ${a.region}) ${a.proofs} proof(s), reward ${dpn(a.reward.amount)}`,
    );
  }
  out();
  out(
    `5. A rig and a PC each render a ${num(rigJob.cu, 4)} CU tile (low-value work rigs may take)`,
  );
  out(`   pc reward  ${dpn(rigJob.pc.amount)}`);
  out(
    `   rig reward ${dpn(rigJob.rig.amount)} = base × 1/MSF ${rigJob.rig.depositFactor.toFixed(4)} × decay e^(−0.03·${rigJob.operatingDays}) ${rigJob.rig.decay.toFixed(4)}`,
  );
  out();
  out(
    `6. Burning controller (§4.2): utilisation ${pct(burning.utilisation)} → ${burning.level}, burn rate ${Number(burning.burnBps) / 100}%`,
  );
  out(`   ${num(burning.coldStorageCu, 0)} CU of excess capacity to cold storage`);
  out(
    `   payment ${dpn(job.price)} → burn ${dpn(split.burn)}, anti-monopoly fund ${dpn(split.antiMonopolyFund)}, reserve ${dpn(split.reserve)}`,
  );
  out();
  out(
    `7. Anti-decoupling (§4.3): price ${ex.oracle.value.toFixed(5)} vs anchor 0.15 → deviation ${pct(ex.antiDecoupling.deviation, 2)}, action ${ex.antiDecoupling.action}${ex.antiDecoupling.action === "none" ? "" : ` ${dpn(ex.antiDecoupling.amount)}`}`,
  );
  out();
  out(
    `8. Genesis (§4.1): ${Object.entries(ex.genesis)
      .map(([k, v]) => `${k} ${formatDpn(v, 0)}`)
      .join(", ")}`,
  );
  return lines.join("\n");
}

export function example(options: ExampleOptions): string {
  const example = workedExample(options);
  if (!options.json) return renderWorkedExample(example);
  return JSON.stringify(
    example,
    (_key, value) => (typeof value === "bigint" ? value.toString() : value),
    2,
  );
}
