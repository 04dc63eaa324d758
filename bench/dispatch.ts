import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningNode, startNode } from "@dpn/node";
import { type Identity, newIdentity } from "@dpn/wire";
import { writeKeyFile } from "@dpn/wire/node";
import type { DeviceStats, FleetCommand } from "./dispatchDevice.ts";
import { Fleet } from "./dispatchDevice.ts";
import type { RequesterCommand, RequesterReport } from "./dispatchRequester.ts";
import { type Benchmark, type BenchRow, median, percentile } from "./harness.ts";

/**
 * How many verified task completions per second does the whole path sustain? The cheap `hash`
 * task (1 SHA-256 iteration per item, so device work is ~0) goes through everything a real task
 * does: a job signed by the SDK and POSTed (quote, holds, split, seeded assignment), leases over
 * the WebSocket, signed results, recomputation in the verifier child process, settlement through
 * the ledger (capture + mint), verdicts back. A "task" is one fragment = one lease.
 *
 * Load design: a job has at most ⌈log2 N⌉ fragments for N eligible devices (plus one per 256
 * items), so tasks come from many jobs in flight: DEVICES fast synthetic devices (256 slots
 * each, in one child process) give ⌈log2 16⌉ = 4 fragments per job of ITEMS_PER_JOB items; a
 * requester child process keeps OUTSTANDING jobs submitted-and-not-done (closed loop: peak),
 * then submits at half the peak job rate (open loop: latency at ~half of peak).
 *
 * The peer: pg-boss 10.1.6 on the local PostgreSQL, the same no-op work, fetch one and fetch
 * batches of 50 (then complete), with as many concurrent consumers as DPN has devices.
 */
const DEVICES = 16;
const SLOTS = 256;
const ITEMS_PER_JOB = 4;
const OUTSTANDING = 32;
const REQUESTERS = 4;
/** Loopback source addresses the requester spreads over (the node rate-limits per IP). */
const ADDRESSES = 32;
const TSX = import.meta.resolve("tsx");
/**
 * Jobs pre-inserted for pg-boss (fetch one, fetch 50): the same in quick and full runs, since its
 * fetch slows down as the job table grows (80,000 queued jobs gave ~1,100 jobs/s batched vs ~3,900
 * with 20,000); consumers stop when the queue is empty or at the deadline.
 */
const PG_BOSS_BACKLOG = [5_000, 20_000] as const;

interface Phase {
  readonly offeredJobsPerSec: number;
  readonly jobsPerSec: number;
  readonly tasksPerSec: number;
  readonly itemsPerSec: number;
  readonly leaseP50Ms: number;
  readonly leaseP99Ms: number;
  readonly jobP50Ms: number;
  readonly jobP99Ms: number;
  readonly ackP50Ms: number;
  readonly rejected: number;
  readonly errors: string;
  /** CPU ms per task: node main thread, verifier child, devices child, requester child. */
  readonly cpuMsPerTask: Readonly<Record<string, number>>;
  readonly nodeEventLoopUtilization: number;
  /** Per task: the ledger writer's ms (plan + write + commit). */
  readonly ledgerWriterMsPerTask: number;
}

function forkTs(file: string): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    execArgv: ["--import", TSX],
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

async function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  const reply = once(child, "message") as Promise<[T]>;
  child.send(message as never);
  return (await reply)[0];
}

/** utime + stime of a process, ms (Linux /proc; 0 elsewhere). */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The node's verifier children (its VerifyPool forks verify/workProcess.ts). */
function verifierPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.split(") ")[1]?.split(" ")[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("workProcess"))
        pids.push(Number(entry));
    } catch {
      // the process went away
    }
  }
  return pids;
}

interface Rig {
  readonly node: RunningNode;
  readonly dir: string;
  readonly keyFiles: string[];
  readonly requester: ChildProcess;
  readonly devices: ChildProcess | Fleet;
  readonly counters: { doneJobs: number };
  /** The finished-jobs count's timer, stopped before the node closes. */
  readonly countDone: NodeJS.Timeout;
}

async function startRig(inProcessDevices: boolean, slots = SLOTS): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), "dpn-bench-dispatch-"));
  const requesters: Identity[] = Array.from({ length: REQUESTERS }, () => newIdentity());
  const keyFiles = requesters.map((identity, i) => {
    const path = join(dir, `requester-${i}.json`);
    writeKeyFile(path, identity);
    return path;
  });
  const node = await startNode({
    dataDir: join(dir, "node"),
    logLevel: "silent",
    grants: Object.fromEntries(requesters.map((r) => [r.id, "10000"])),
    leaseMs: 600_000,
  });
  // Instrumentation only: count finished jobs for the closed loop, from the node's own table
  // (one indexed count per 10 ms feedback tick, never two at once).
  const counters = { doneJobs: 0 };
  let counting = false;
  const countDone = setInterval(() => {
    if (counting) return;
    counting = true;
    node.store.db
      .selectFrom("jobs")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("state", "=", "done")
      .executeTakeFirst()
      .then((row) => {
        counters.doneJobs = Number(row?.n ?? 0);
      })
      // A count still in flight when the rig stops meets a closed store: nothing to count.
      .catch(() => undefined)
      .finally(() => {
        counting = false;
      });
  }, 10);
  countDone.unref();
  const owners = Array.from({ length: 4 }, () => newIdentity().id);
  const start = { url: node.url, owners, count: DEVICES, slots };
  let devices: ChildProcess | Fleet;
  if (inProcessDevices) {
    const fleet = new Fleet();
    await fleet.start(start);
    devices = fleet;
  } else {
    const child = forkTs("./dispatchDevice.ts");
    const reply = await ask<{ ok: boolean; error?: string }>(child, {
      cmd: "start",
      ...start,
    } satisfies FleetCommand);
    if (!reply.ok) throw new Error(`devices failed to start: ${reply.error}`);
    devices = child;
  }
  const requester = forkTs("./dispatchRequester.ts");
  return { node, dir, keyFiles, requester, devices, counters, countDone };
}

async function deviceStats(rig: Rig): Promise<DeviceStats> {
  return rig.devices instanceof Fleet
    ? rig.devices.stats()
    : ask<DeviceStats>(rig.devices, { cmd: "stats" } satisfies FleetCommand);
}

async function stopRig(rig: Rig): Promise<void> {
  rig.requester.disconnect();
  if (rig.devices instanceof Fleet) rig.devices.close();
  else {
    const exited = once(rig.devices, "exit");
    rig.devices.send({ cmd: "close" } satisfies FleetCommand);
    await exited;
  }
  clearInterval(rig.countDone);
  await rig.node.close();
  rmSync(rig.dir, { recursive: true, force: true });
}

async function runPhase(
  rig: Rig,
  load: { outstanding?: number; ratePerSec?: number },
  durationMs: number,
  tag: string,
): Promise<Phase> {
  const { node, counters } = rig;
  await deviceStats(rig); // resets the devices' counters
  const doneBefore = counters.doneJobs;
  const verifiers = verifierPids();
  const devicePid = rig.devices instanceof Fleet ? undefined : rig.devices.pid;
  const cpu0 = {
    node: process.cpuUsage(),
    verifier: verifiers.reduce((n, pid) => n + cpuMsOf(pid), 0),
    devices: cpuMsOf(devicePid),
    requester: cpuMsOf(rig.requester.pid),
  };
  const elu0 = performance.eventLoopUtilization();
  const ledger0 = node.ledger.store.stats();
  const t0 = Date.now();
  const feedback = setInterval(() => {
    rig.requester.send({
      cmd: "done",
      count: counters.doneJobs - doneBefore,
    } satisfies RequesterCommand);
  }, 10);
  const report = await ask<RequesterReport>(rig.requester, {
    cmd: "run",
    url: node.url,
    keyFiles: rig.keyFiles,
    addresses: ADDRESSES,
    itemsPerJob: ITEMS_PER_JOB,
    durationMs,
    tag,
    ...load,
  } satisfies RequesterCommand);
  clearInterval(feedback);
  const t1 = Date.now();
  const elu = performance.eventLoopUtilization(elu0);
  const cpuNode = process.cpuUsage(cpu0.node);
  const cpu = {
    node: (cpuNode.user + cpuNode.system) / 1000,
    verifier: verifiers.reduce((n, pid) => n + cpuMsOf(pid), 0) - cpu0.verifier,
    devices: (devicePid === undefined ? 0 : cpuMsOf(devicePid)) - cpu0.devices,
    requester: cpuMsOf(rig.requester.pid) - cpu0.requester,
  };
  const ledger1 = node.ledger.store.stats();
  // Throughput over the window after a 20% warm-up, from the node's own records.
  const from = t0 + Math.round(0.2 * (t1 - t0));
  const db = node.store.db;
  const window = await db
    .selectFrom("tasks")
    .select((eb) => [
      eb.fn.countAll<number>().as("tasks"),
      eb.fn
        .coalesce(eb.fn.sum<number>(eb("item_to", "-", eb.ref("item_from"))), eb.lit(0))
        .as("items"),
    ])
    .where("state", "=", "done")
    .where("done_ms", ">=", from)
    .where("done_ms", "<", t1)
    .executeTakeFirstOrThrow();
  const jobsDone = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("state", "=", "done")
    .where("finished_ms", ">=", from)
    .where("finished_ms", "<", t1)
    .executeTakeFirstOrThrow();
  const tasksInPhase = await db
    .selectFrom("tasks")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("state", "=", "done")
    .where("done_ms", ">=", t0)
    .where("done_ms", "<", t1)
    .executeTakeFirstOrThrow();
  // Let the submitted jobs finish, then read their end-to-end times.
  const ids = report.jobs.map((j) => j.jobId);
  const drainUntil = Date.now() + 30_000;
  let rows: Array<{ state: string; finished_ms: number | null } | undefined> = [];
  for (;;) {
    rows = await Promise.all(
      ids.map((id) =>
        db
          .selectFrom("jobs")
          .select(["state", "finished_ms"])
          .where("id", "=", id)
          .executeTakeFirst(),
      ),
    );
    if (rows.every((r) => r?.state === "done") || Date.now() > drainUntil) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const jobLatencies = report.jobs
    .map((job, i) => ({ job, row: rows[i] }))
    .filter(({ job, row }) => job.submittedAtMs >= from && row?.finished_ms != null)
    .map(({ job, row }) => (row?.finished_ms as number) - job.submittedAtMs);
  const stats = await deviceStats(rig);
  const seconds = (t1 - from) / 1000;
  const perTask = (ms: number): number => ms / Math.max(1, tasksInPhase.n);
  const errors = Object.entries(report.errors)
    .map(([code, n]) => `${code}×${n}`)
    .concat(stats.errors > 0 ? [`device: ${stats.lastError}×${stats.errors}`] : [])
    .join(", ");
  return {
    offeredJobsPerSec: load.ratePerSec ?? Number.NaN,
    jobsPerSec: jobsDone.n / seconds,
    tasksPerSec: window.tasks / seconds,
    itemsPerSec: window.items / seconds,
    leaseP50Ms: percentile(stats.latenciesMs, 50),
    leaseP99Ms: percentile(stats.latenciesMs, 99),
    jobP50Ms: percentile(jobLatencies, 50),
    jobP99Ms: percentile(jobLatencies, 99),
    ackP50Ms: percentile(
      report.jobs.map((j) => j.ackMs),
      50,
    ),
    rejected: stats.rejected,
    errors,
    cpuMsPerTask: {
      node: perTask(cpu.node),
      verifier: perTask(cpu.verifier),
      devices: perTask(cpu.devices),
      requester: perTask(cpu.requester),
    },
    nodeEventLoopUtilization: elu.utilization,
    ledgerWriterMsPerTask: perTask(
      ledger1.planMs +
        ledger1.writeMs +
        ledger1.commitMs -
        ledger0.planMs -
        ledger0.writeMs -
        ledger0.commitMs,
    ),
  };
}

interface PgBossRun {
  readonly jobsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** pg-boss: pre-insert no-op jobs, then `consumers` loops fetch → complete until the deadline. */
async function pgBossRun(
  url: string,
  batchSize: number,
  consumers: number,
  jobs: number,
  durationMs: number,
  run: number,
): Promise<PgBossRun> {
  const { default: PgBoss } = await import("pg-boss");
  const schema = `pgboss_bench_${process.pid}_${batchSize}_${run}`;
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: consumers + 2,
    supervise: false,
    schedule: false,
  });
  boss.on("error", () => {});
  await boss.start();
  const queue = "noop";
  try {
    await boss.createQueue(queue);
    for (let i = 0; i < jobs; i += 5_000) {
      await boss.insert(
        Array.from({ length: Math.min(5_000, jobs - i) }, (_, k) => ({
          name: queue,
          data: { i: i + k },
        })),
      );
    }
    const latencies: number[] = [];
    let completed = 0;
    const start = performance.now();
    const deadline = start + durationMs;
    await Promise.all(
      Array.from({ length: consumers }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          const got = await boss.fetch<{ i: number }>(queue, { batchSize });
          if (got.length === 0) break;
          // The work is a no-op, as the hash task's is at 1 iteration.
          await boss.complete(
            queue,
            got.map((job) => job.id),
          );
          latencies.push(performance.now() - t);
          completed += got.length;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    return {
      jobsPerSec: completed / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await boss.stop({ graceful: false, wait: true, close: false });
    const pg = await import("pg");
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
  }
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

const bench: Benchmark = async ({ quick }) => {
  const repeats = quick ? 1 : 3;
  const peakMs = quick ? 2_000 : 5_000;
  const halfMs = quick ? 2_000 : 5_000;
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  const peaks: Phase[] = [];
  const halves: Phase[] = [];
  for (let run = 0; run < repeats; run++) {
    const rig = await startRig(false);
    try {
      const peak = await runPhase(rig, { outstanding: OUTSTANDING }, peakMs, `peak${run}`);
      peaks.push(peak);
      const half = await runPhase(
        rig,
        { ratePerSec: Math.max(1, peak.jobsPerSec / 2) },
        halfMs,
        `half${run}`,
      );
      halves.push(half);
    } finally {
      await stopRig(rig);
    }
  }
  // Full mode only (quick stays under a minute): devices in the node's process (no separate
  // device core, no IPC), and devices with 8 slots instead of 256 (see the notes: the node batches
  // leases into one frame only when a device has run out of credit).
  const variants: Array<{ label: string; inProcess: boolean; slots: number; phases: Phase[] }> =
    quick
      ? []
      : [
          {
            label: `${DEVICES} (in-process), ${SLOTS} slots`,
            inProcess: true,
            slots: SLOTS,
            phases: [],
          },
          { label: `${DEVICES} (child process), 8 slots`, inProcess: false, slots: 8, phases: [] },
        ];
  for (const variant of variants) {
    const rig = await startRig(variant.inProcess, variant.slots);
    try {
      variant.phases.push(await runPhase(rig, { outstanding: OUTSTANDING }, peakMs, "variant"));
    } finally {
      await stopRig(rig);
    }
  }

  const pick = (phases: readonly Phase[], key: keyof Phase): number =>
    median(phases.map((p) => p[key] as number));
  const dpnRow = (load: string, phases: readonly Phase[], devices: string): BenchRow => ({
    system: "DPN (full path)",
    load,
    "devices / consumers": devices,
    "tasks/s": Math.round(pick(phases, "tasksPerSec")),
    "items/s": Math.round(pick(phases, "itemsPerSec")),
    "jobs/s": round(pick(phases, "jobsPerSec")),
    "p50 ms": round(pick(phases, "leaseP50Ms")),
    "p99 ms": round(pick(phases, "leaseP99Ms")),
    "job p50 ms": round(pick(phases, "jobP50Ms")),
    "job p99 ms": round(pick(phases, "jobP99Ms")),
    runs: phases.length,
  });
  const childLabel = `${DEVICES} (child process), ${SLOTS} slots`;
  rows.push(
    dpnRow(`peak (closed loop, ${OUTSTANDING} jobs outstanding)`, peaks, childLabel),
    dpnRow(
      `half of peak (open loop, ${round(pick(halves, "offeredJobsPerSec"))} jobs/s)`,
      halves,
      childLabel,
    ),
    ...variants.map((v) =>
      dpnRow(`peak (closed loop, ${OUTSTANDING} jobs outstanding)`, v.phases, v.label),
    ),
  );

  const url = process.env.DPN_TEST_PG_URL;
  let batched = Number.NaN;
  if (url === undefined) {
    notes.push(
      "pg-boss rows skipped: set DPN_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them.",
    );
  } else {
    for (const batchSize of [1, 50]) {
      const runs: PgBossRun[] = [];
      for (let run = 0; run < repeats; run++) {
        runs.push(
          await pgBossRun(
            url,
            batchSize,
            DEVICES,
            PG_BOSS_BACKLOG[batchSize === 1 ? 0 : 1],
            quick ? 2_000 : 3_000,
            run,
          ),
        );
      }
      const rate = median(runs.map((r) => r.jobsPerSec));
      if (batchSize === 50) batched = rate;
      rows.push({
        system: "pg-boss 10.1.6 (PostgreSQL, local)",
        load: batchSize === 1 ? "fetch one, complete" : "fetch 50, complete 50",
        "devices / consumers": `${DEVICES} consumers`,
        "tasks/s": Math.round(rate),
        "items/s": Math.round(rate),
        "jobs/s": Math.round(rate),
        "p50 ms": round(median(runs.map((r) => r.p50Ms))),
        "p99 ms": round(median(runs.map((r) => r.p99Ms))),
        "job p50 ms": "",
        "job p99 ms": "",
        runs: runs.length,
      });
    }
  }

  const peakTasks = pick(peaks, "tasksPerSec");
  const cpu = (phases: readonly Phase[], who: string): string =>
    median(phases.map((p) => p.cpuMsPerTask[who] ?? Number.NaN)).toFixed(3);
  const errors = [...peaks, ...halves, ...variants.flatMap((v) => v.phases)]
    .map((p) => p.errors)
    .filter((e) => e !== "");
  notes.push(
    `Load: ${DEVICES} synthetic devices (${SLOTS} slots each) → ⌈log2 ${DEVICES}⌉ = ${Math.ceil(Math.log2(DEVICES))} fragments (tasks) per job of ${ITEMS_PER_JOB} hash items at 1 iteration; a task = one fragment = one lease. Many tasks need many jobs: the requester process keeps ${OUTSTANDING} jobs submitted-and-not-done (peak), then submits at half the peak job rate (open loop).`,
    `pg-boss: ${PG_BOSS_BACKLOG[0].toLocaleString("en-US")} (fetch one) or ${PG_BOSS_BACKLOG[1].toLocaleString("en-US")} (fetch 50) no-op jobs pre-inserted into a fresh schema per run, ${DEVICES} consumers each looping fetch → complete; completed jobs/s over the time until the queue is empty or the deadline. Its throughput falls as the job table grows (see PG_BOSS_BACKLOG).`,
    "tasks/s and items/s: tasks the node marked done (verified, captured, minted) per second, after a 20% warm-up, from its own task rows. p50/p99 ms: dispatch latency = lease received by the device → verdict received by the device (device signs results, node verifies the frame, recomputes the digest in its verifier process, captures + mints in the ledger, signs the verdicts). job p50/p99 ms: job POSTed by the requester → job marked done by the node. pg-boss p50/p99: one fetch + complete round trip.",
    `Goal ≥ 20,000 verified completions/s: reached ${Math.round(peakTasks).toLocaleString("en-US")} tasks/s (${(peakTasks / 20_000).toFixed(3)} of the goal).`,
    Number.isNaN(batched)
      ? "Goal ≥ 5× pg-boss batched: not measured (no DPN_TEST_PG_URL)."
      : `Goal ≥ 5× pg-boss batched: DPN/pg-boss-batched = ${(peakTasks / batched).toFixed(3)}× (tasks/s vs jobs/s).`,
    `Goal p99 ≤ 10 ms at half of peak: lease→verdict p99 = ${pick(halves, "leaseP99Ms").toFixed(1)} ms, p50 = ${pick(halves, "leaseP50Ms").toFixed(1)} ms.`,
    `CPU ms per task at peak (child-process devices): node main thread ${cpu(peaks, "node")}, verifier process ${cpu(peaks, "verifier")}, devices process ${cpu(peaks, "devices")}, requester process ${cpu(peaks, "requester")}; node event-loop utilization ${(pick(peaks, "nodeEventLoopUtilization") * 100).toFixed(0)}%.`,
    `Inside the node per task at peak: ${pick(peaks, "ledgerWriterMsPerTask").toFixed(3)} ms in the ledger writer (plan + write + commit of capture + mint, group-committed); job POST ack p50 ${pick(peaks, "ackP50Ms").toFixed(1)} ms.`,
    `Requests leave from ${ADDRESSES} loopback addresses: the node's rate limit (1,200 requests/min per IP) would cap one requester address at 20 jobs/s = ${20 * Math.ceil(Math.log2(DEVICES))} tasks/s.`,
    errors.length > 0
      ? `Errors: ${errors.join("; ")}`
      : "No submission errors, no rejected results.",
  );
  return {
    name: "dispatch",
    question: "How many verified task completions per second does the whole path sustain?",
    rows,
    notes,
  };
};

export default bench;
