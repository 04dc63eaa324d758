import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SYSTEM_ACCOUNTS } from "@dpn/ledger";
import { DEFAULT_MARKET_SEED, type RunningNode, startNode } from "@dpn/node";
import { formatDpn, genesisAllocation, parseDpn } from "@dpn/protocol";
import { DpnClient, type JobView } from "@dpn/sdk";
import { type Identity, newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import type { Command } from "commander";
import { buildSpec } from "../jobSpec/index.ts";
import { jobProgress } from "../progress.ts";
import { runFlDemo } from "./demoFl.ts";
import { spawnWorker, stopProcesses } from "./workerProcess.ts";

/**
 * `dpn demo`: the computing power bank end to end on one machine. A bank node on the embedded
 * default (SQLite in a fresh directory), five device processes of different classes and regions
 * (one a mining rig), and a requester who pays for a batch of Groth16 proofs and some hash work.
 * Everything is real: proofs are made and verified, DPN is minted and burned in the ledger.
 */
interface DemoDevice {
  readonly name: string;
  readonly deviceClass: string;
  readonly geohash: string;
  readonly place: string;
  readonly owner: Identity;
  readonly device: Identity;
  process?: ChildProcess;
  registeredClass?: string;
  cuPerSec?: number;
  /** The node's reason for the class: what the challenge measured against the claim. */
  classReason?: string;
}

const FLEET: ReadonlyArray<Pick<DemoDevice, "name" | "deviceClass" | "geohash" | "place">> = [
  { name: "berlin-server", deviceClass: "server", geohash: "u33d", place: "Berlin" },
  { name: "saopaulo-server", deviceClass: "server", geohash: "6gyf", place: "São Paulo" },
  { name: "tokyo-car", deviceClass: "vehicle", geohash: "xn76", place: "Tokyo" },
  { name: "newyork-rig", deviceClass: "rig", geohash: "dr5r", place: "New York" },
  { name: "sydney-phone", deviceClass: "phone", geohash: "r3gx", place: "Sydney" },
];

export interface DemoOptions {
  readonly proofs: string;
  readonly hashJobs: string;
  readonly keep: boolean;
  readonly keepOpen: boolean;
  readonly json: boolean;
}

function spawnDevice(
  device: DemoDevice,
  url: string,
  dir: string,
  onEvent: (d: DemoDevice, e: Record<string, unknown>) => void,
): void {
  const keys = join(dir, `${device.name}.json`);
  writeKeyFile(keys, device.device);
  const child = spawnWorker({
    nodeUrl: url,
    keys,
    owner: device.owner.id,
    deviceClass: device.deviceClass,
    geohash: device.geohash,
    cacheDir: join(dir, "cache"),
    extra: ["--events"],
    stdout: "pipe",
  });
  device.process = child;
  if (child.stdout === null) return;
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      onEvent(device, JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not an event line
    }
  });
}

async function stopDevices(devices: readonly DemoDevice[]): Promise<void> {
  await stopProcesses(devices.map((d) => d.process));
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "dpn-demo-"));
  const requester = newIdentity();
  const devices: DemoDevice[] = FLEET.map((d) => ({
    ...d,
    owner: newIdentity(),
    device: newIdentity(),
  }));
  let node: RunningNode | undefined;
  const say = (line: string): void => {
    if (!options.json) console.error(line);
  };
  try {
    node = await startNode({
      dataDir: join(dir, "node"),
      logLevel: "silent",
      grants: { [requester.id]: "1000" },
      // A short epoch lets the demo's measured rig share reach the rate within the run.
      epochMs: 2_000,
      verifyThreads: 1,
      // Five devices share this machine's cores and answer their challenges at once, each over
      // every core; a fifth of the challenge and a 16 MiB memory probe keep that to seconds. A
      // device on its own machine answers the full challenge (docs/protocol.md §Devices).
      challengeIterations: 50_000,
      params: { "devices.heavyMinMemoryMiB": 16 },
    });
    say(`bank node ${node.identity.id.slice(0, 14)}… on ${node.url} (SQLite in ${dir})`);
    say(
      `dashboard ${node.url}/  (open it to watch the demo live; --keep-open keeps it up after the summary)`,
    );
    say(`requester ${requester.id.slice(0, 14)}… granted 1000 DPN from the liquidity pool`);

    const registered = new Promise<void>((resolve) => {
      let count = 0;
      for (const d of devices) {
        spawnDevice(d, node?.url ?? "", dir, (device, event) => {
          if (event.type === "registered") {
            device.registeredClass = String(event.deviceClass);
            device.cuPerSec = Number(event.benchmarkCuPerSec);
            device.classReason = String(event.reason);
            say(
              `  device ${device.name.padEnd(16)} ${device.place.padEnd(10)} registered as ${device.registeredClass} (${String(event.layer)} layer), benchmark ${device.cuPerSec.toFixed(2)} CU/s`,
            );
            count += 1;
            if (count === devices.length) resolve();
          }
        });
      }
    });
    say(`starting ${devices.length} device processes…`);
    await registered;

    const client = new DpnClient({ url: node.url, identity: requester });
    const proofs = Number(options.proofs);
    const zk = await buildSpec(client, {
      type: "zk-groth16",
      circuit: "example",
      proofs: String(proofs),
      seed: "dpn-demo",
    });
    const zkJob = await client.submitJob({
      spec: zk.spec,
      budget: "50",
      deadlineMs: Date.now() + 600_000,
      clientRef: "demo-zk",
    });
    say(
      `\nrequester submitted ${proofs} Groth16 proofs (${zkJob.cu.toFixed(2)} CU, quote ${zkJob.quote} DPN) → ${zkJob.fragments.length} fragments`,
    );
    const hashJobs: JobView[] = [];
    for (let i = 0; i < Number(options.hashJobs); i++) {
      const hash = await buildSpec(client, { type: "hash", items: "8", iterations: "400000" });
      hashJobs.push(
        await client.submitJob({
          spec: hash.spec,
          budget: "50",
          deadlineMs: Date.now() + 600_000,
          clientRef: `demo-hash-${i}`,
        }),
      );
    }
    say(
      `requester submitted ${hashJobs.length} hash jobs (low-value work, open to rigs and phones)\n`,
    );

    const bar = options.json ? undefined : jobProgress("proofs");
    const zkDone = await client.waitForJob(zkJob.jobId, (j) => bar?.update(j));
    bar?.stop();
    const hashDone = await Promise.all(hashJobs.map((j) => client.waitForJob(j.jobId)));
    await stopDevices(devices);

    const ledger = node.ledger;
    const supply = await ledger.supply();
    const fund = await ledger.balance(SYSTEM_ACCOUNTS.antiMonopolyFund);
    const reserve = await ledger.balance(SYSTEM_ACCOUNTS.reservePool);
    const audit = await ledger.verify();
    // The epoch the rig's work was paid in: devices have stopped by now, so a new epoch would
    // show no rig online. The recorded epoch with the strongest MSF is the one the rig felt.
    const epochs = (
      await node.store.db.selectFrom("rates").select("json").orderBy("at_ms").execute()
    ).map((r) => JSON.parse(r.json) as Awaited<ReturnType<RunningNode["bank"]["economics"]>>);
    const economics = epochs.reduce(
      (best, e) => (e.rate.msf > best.rate.msf ? e : best),
      await node.bank.economics(),
    );
    const pool = await ledger.pool();
    const reserveOperations = (
      await node.store.db
        .selectFrom("reserve_operations")
        .select("json")
        .orderBy("at_ms", "desc")
        .limit(1_000)
        .execute()
    ).map((r) => JSON.parse(r.json) as { action: string });
    const rows = await Promise.all(
      devices.map(async (d) => {
        const row = await node?.store.db
          .selectFrom("devices")
          .selectAll()
          .where("id", "=", d.device.id)
          .executeTakeFirst();
        const minted = BigInt(row?.earned ?? "0");
        return {
          name: d.name,
          place: d.place,
          deviceClass: row?.device_class ?? d.deviceClass,
          accepted: row?.accepted ?? 0,
          rejected: row?.rejected ?? 0,
          cu: row?.cu_delivered ?? 0,
          minted: formatDpn(minted),
          dpnPerCu:
            (row?.cu_delivered ?? 0) > 0 ? Number(minted) / 1e18 / (row?.cu_delivered ?? 1) : 0,
          ownerBalance: formatDpn(await ledger.balance(`owner:${d.owner.id}`)),
        };
      }),
    );
    const summary = {
      proofsVerified: zkDone.state === "done" ? zkDone.items : zkDone.itemsDone,
      zkJob: {
        state: zkDone.state,
        spent: zkDone.spent,
        quote: zkDone.quote,
        fragments: zkDone.fragments.length,
      },
      hashJobs: hashDone.map((j) => ({ state: j.state, spent: j.spent })),
      devices: rows,
      burned: formatDpn(supply.burned),
      antiMonopolyFund: formatDpn(fund),
      // What the run added to the reserve: its balance less its genesis bucket (§Supply) and
      // less the DPN it seeded into the AMM pool (the default market seed).
      reserve: formatDpn(
        reserve -
          genesisAllocation(supply.cap).reservePool +
          parseDpn(DEFAULT_MARKET_SEED.reserveLiquidityDpn ?? "0"),
      ),
      rate: {
        cuPerDpn: economics.rate.cuPerDpn,
        msf: economics.rate.msf,
        ehf: economics.rate.ehf,
        rigShare: economics.inputs.rigShare,
        burnBps: economics.burning.burnBps.toString(),
      },
      market: {
        spotPriceUsd: pool.spotPrice === null ? null : formatDpn(pool.spotPrice),
        poolDpn: formatDpn(pool.reserveDpn),
        poolStable: formatDpn(pool.reserveStable),
        reserveDecisions: reserveOperations.length,
        reserveTrades: reserveOperations.filter((o) => o.action !== "none").length,
      },
      ledgerVerify: audit.ok ? "OK" : "FAILED",
      wallSeconds: (performance.now() - started) / 1000,
    };
    if (options.json) {
      console.log(JSON.stringify(summary, null, 2));
    } else {
      say("\nsummary");
      say(
        `  proofs verified     ${summary.proofsVerified} of ${proofs} (job ${zkDone.state}, paid ${zkDone.spent} DPN of quote ${zkDone.quote})`,
      );
      say(`  hash jobs           ${hashDone.map((j) => j.state).join(", ")}`);
      say("  DPN minted per device (reward = CU / rate × class factor × decay):");
      for (const r of rows) {
        say(
          `    ${r.name.padEnd(16)} ${r.deviceClass.padEnd(8)} ${String(r.accepted).padStart(2)} tasks  ${r.cu.toFixed(2).padStart(7)} CU  ${r.minted.padStart(12)} DPN  (${r.dpnPerCu.toExponential(3)} DPN/CU)`,
        );
      }
      say("  device classes, from the capability challenge's measurement:");
      for (const d of devices) say(`    ${d.name.padEnd(16)} ${d.classReason ?? "not registered"}`);
      const rig = rows.find((r) => r.deviceClass === "rig");
      const others = rows
        .filter((r) => r.deviceClass !== "rig" && r.dpnPerCu > 0)
        .map((r) => r.dpnPerCu);
      if (rig !== undefined && others.length > 0) {
        const ratio = rig.dpnPerCu / Math.min(...others);
        say(
          `  why the rig earned less: rigs may take only low-value work (no Groth16 fragments, §3.2), and rigs hold ${(economics.inputs.rigShare * 100).toFixed(1)}% of the computing power online, above 5%, so MSF = ${economics.rate.msf}: the rig was paid ${ratio.toFixed(3)}× per CU what the others were (1/MSF = ${(1 / economics.rate.msf).toFixed(3)}, times its decay e^(−0.03·t), ≈ 1 after minutes of running).`,
        );
      }
      say(`  DPN burned          ${summary.burned}`);
      say(`  anti-monopoly fund  ${summary.antiMonopolyFund} (3% of payments)`);
      say(`  to the reserve      ${summary.reserve}`);
      say(
        `  exchange rate       ${economics.rate.cuPerDpn.toFixed(2)} CU per DPN (burn rate ${Number(economics.burning.burnBps) / 100}%, ${economics.burning.level}); P_cu ${economics.prices.computePriceUsdPerCu.toPrecision(4)} USD/CU, DPN ${economics.prices.dpnPriceUsd.toFixed(4)} USD${economics.prices.simulated === true ? " — from the demo's feeds, some SIMULATED" : ""}`,
      );
      say(
        `  AMM pool            ${summary.market.poolDpn} DPN / ${summary.market.poolStable} USD, spot ${summary.market.spotPriceUsd ?? "-"} USD/DPN; reserve decided ${summary.market.reserveDecisions}× (traded ${summary.market.reserveTrades}×)`,
      );
      say(`  ledger verify       ${summary.ledgerVerify}`);
      say(`  wall time           ${summary.wallSeconds.toFixed(1)} s`);
    }
    if (zkDone.state !== "done" || !audit.ok) process.exitCode = 3;
    if (options.keepOpen) {
      say(`\nthe node and its dashboard stay up at ${node.url}/ — press Ctrl-C to stop`);
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    }
  } finally {
    await stopDevices(devices);
    await node?.close();
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    else if (!options.json) console.error(`data kept in ${dir}`);
  }
}

export function demoCommand(program: Command): void {
  program
    .command("demo")
    .description(
      "the bank end to end: a node, five device processes (one a rig), a requester paying for Groth16 proofs",
    )
    .option("--proofs <n>", "Groth16 proofs in the requester's batch", "16")
    .option("--hash-jobs <n>", "low-value hash jobs submitted alongside", "3")
    .option("--keep", "keep the data directory", false)
    .option(
      "--keep-open",
      "keep the node and its dashboard running after the summary (Ctrl-C stops)",
      false,
    )
    .option("--json", "print the summary as JSON", false)
    .option("--fl", "instead: a federated-learning job over four regional device processes", false)
    .option("--rounds <n>", "with --fl: FedAvg rounds", "5")
    .action((options: DemoOptions & { fl: boolean; rounds: string }) =>
      options.fl ? runFlDemo(options) : runDemo(options),
    );
}
