import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  compileReferenceQuery,
  FLIGHTS_3M_PARQUET,
  FLIGHTS_3M_ROWS,
  mergePartials,
  parseQuerySpec,
  type QueryResult,
  quoteString,
  runFragmentQuery,
  splitDataset,
} from "@dpn/analytics";
import { decideQuorum } from "@dpn/protocol";
import { DuckDBInstance } from "@duckdb/node-api";
import type { FragmentReply, FragmentTask } from "./analyticsWorker.ts";
import { type Benchmark, type BenchRow, median, repeat } from "./harness.ts";

/**
 * What does running an `sql-analytics` query as a distributed job cost, against DuckDB running
 * the same query in one process? The job: split vega-datasets' flights-3m.parquet into N Parquet
 * fragments (N = 4, 8, 16; setup, untimed), run the restricted query on each fragment in its own
 * locked-down in-memory DuckDB (one thread each, as a device does), merge the partials. Timed:
 * all fragment queries + merge, sequentially in this thread and in parallel on a pool of worker
 * threads (started before timing, as devices are already connected), and with k = 2 replication
 * (each fragment run twice, digests compared by decideQuorum, then merge). The peer: DuckDB in
 * this process over the same N files (read_parquet of the list), open + query, with all threads
 * and with one.
 */

const SPEC = parseQuerySpec({
  select: [
    { fn: "count" },
    { fn: "sum", column: "delay" },
    { fn: "avg", column: "distance" },
    { fn: "min", column: "delay" },
    { fn: "max", column: "delay" },
  ],
  groupBy: ["origin"],
  where: [{ column: "distance", op: ">=", value: 300 }],
});

const THREAD_BOOTSTRAP = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};
register();`;
const WORKER_URL = new URL("./analyticsWorker.ts", import.meta.url);

class DevicePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (reply: FragmentReply) => void>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_URL, {
        execArgv: [
          "--import",
          `data:text/javascript;base64,${Buffer.from(THREAD_BOOTSTRAP).toString("base64")}`,
        ],
      });
      worker.on("message", (reply: FragmentReply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
      });
      return worker;
    });
  }

  /** Round-robin dispatch; each worker runs its queue one task at a time (one device). */
  run(path: string): Promise<{ json: string; digest: string }> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.ok ? resolve(reply) : reject(new Error(reply.message)),
      );
      worker.postMessage({ id, path, spec: SPEC } satisfies FragmentTask);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function duckdbAlone(paths: readonly string[], threads: number): Promise<number> {
  const start = performance.now();
  const instance = await DuckDBInstance.create(":memory:", {
    threads: String(threads),
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
  });
  const connection = await instance.connect();
  const source = `read_parquet([${paths.map(quoteString).join(", ")}])`;
  const reader = await connection.runAndReadAll(compileReferenceQuery(SPEC, source));
  const rows = reader.getRows().length;
  connection.closeSync();
  instance.closeSync();
  if (rows === 0) throw new Error("the reference query returned nothing");
  return performance.now() - start;
}

function mergeTimed(partials: readonly unknown[]): { result: QueryResult; mergeMs: number } {
  const start = performance.now();
  const result = mergePartials(SPEC, partials);
  return { result, mergeMs: performance.now() - start };
}

const bench: Benchmark = async ({ quick }) => {
  const rows = quick ? 600_000 : FLIGHTS_3M_ROWS;
  const repeats = quick ? 2 : 5;
  const counts = [4, 8, 16];
  const workers = Math.max(1, availableParallelism());
  const root = mkdtempSync(join(tmpdir(), "dpn-bench-analytics-"));
  const pool = new DevicePool(workers);
  const out: BenchRow[] = [];
  // Other work on a shared machine skews every row; the load is recorded with the results.
  const loadAtStart = loadavg()[0] ?? 0;
  let groups = 0;
  try {
    // Warm up: load DuckDB and tsx in every worker before any timing.
    const warm = await splitDataset({
      source: FLIGHTS_3M_PARQUET,
      outDir: join(root, "warm"),
      fragments: workers,
      rows: 10_000,
    });
    await Promise.all(warm.paths.map((p) => pool.run(p)));
    await runFragmentQuery({ path: warm.paths[0] as string }, SPEC);

    for (const n of counts) {
      const { paths } = await splitDataset({
        source: FLIGHTS_3M_PARQUET,
        outDir: join(root, `n${n}`),
        fragments: n,
        rows,
      });
      const aloneAll = median(await repeat(repeats, () => duckdbAlone(paths, workers)));
      const aloneOne = median(await repeat(repeats, () => duckdbAlone(paths, 1)));

      const sequential = await repeat(repeats, async () => {
        const start = performance.now();
        const partials = [];
        for (const path of paths) partials.push((await runFragmentQuery({ path }, SPEC)).partial);
        const { result, mergeMs } = mergeTimed(partials);
        groups = result.rows.length;
        return { ms: performance.now() - start, mergeMs };
      });

      const parallel = await repeat(repeats, async () => {
        const start = performance.now();
        const replies = await Promise.all(paths.map((p) => pool.run(p)));
        const { mergeMs } = mergeTimed(replies.map((r) => JSON.parse(r.json)));
        return { ms: performance.now() - start, mergeMs };
      });

      const replicated = await repeat(repeats, async () => {
        const start = performance.now();
        const replies = await Promise.all(
          // Both replicas dispatched together, so consecutive ids land on different workers.
          paths.map((p) => Promise.all([pool.run(p), pool.run(p)])),
        );
        const accepted = replies.map(([a, b], f) => {
          const decision = decideQuorum({
            replicas: [
              { deviceId: `dev-${f}-a`, digest: a.digest },
              { deviceId: `dev-${f}-b`, digest: b.digest },
            ],
            reputations: { [`dev-${f}-a`]: 0.7, [`dev-${f}-b`]: 0.7 },
          });
          if (decision.status !== "accepted") throw new Error(`fragment ${f}: replicas disagree`);
          return JSON.parse(a.json) as unknown;
        });
        const { mergeMs } = mergeTimed(accepted);
        return { ms: performance.now() - start, mergeMs };
      });

      const seqMs = median(sequential.map((r) => r.ms));
      const parMs = median(parallel.map((r) => r.ms));
      const repMs = median(replicated.map((r) => r.ms));
      const row = (
        mode: string,
        ms: number,
        mergeMs: number | string,
        overhead: number | string = "-",
      ): BenchRow => ({
        fragments: n,
        mode,
        ms,
        "× DuckDB alone": ms / aloneAll,
        "merge ms": mergeMs,
        "k=2 overhead": overhead,
      });
      out.push(
        row(`DuckDB alone, ${workers} threads`, aloneAll, "-"),
        row("DuckDB alone, 1 thread", aloneOne, "-"),
        row("fragments sequential + merge", seqMs, median(sequential.map((r) => r.mergeMs))),
        row(
          `fragments on ${workers} workers + merge`,
          parMs,
          median(parallel.map((r) => r.mergeMs)),
        ),
        row(
          `k=2 on ${workers} workers + quorum + merge`,
          repMs,
          median(replicated.map((r) => r.mergeMs)),
          repMs / parMs,
        ),
      );
    }
  } finally {
    await pool.close();
    rmSync(root, { recursive: true, force: true });
  }
  return {
    name: "analytics",
    question:
      "What does a distributed sql-analytics query (per-fragment locked DuckDB + merge, with and without k=2 replication) cost against DuckDB alone on the same data?",
    rows: out,
    notes: [
      `${rows.toLocaleString("en-US")} flights from vega-datasets flights-3m.parquet; query: origin, count(*), sum(delay), avg(distance), min(delay), max(delay) WHERE distance >= 300 GROUP BY origin (${groups} groups).`,
      `Medians of ${repeats} runs. Each fragment query opens its own in-memory DuckDB (1 thread), creates the view, locks it down, runs and closes: that fixed cost is part of the device path.`,
      `Workers are ${workers} worker threads on ${workers} cores, started before timing; 'DuckDB alone' opens one instance and runs the ordinary query over all N files.`,
      "k=2 overhead = k=2 time / k=1 parallel time: every fragment is run twice on different workers and the digests compared.",
      `1-minute load average at start ${loadAtStart.toFixed(2)}, at end ${(loadavg()[0] ?? 0).toFixed(2)} (on ${workers} cores).`,
    ],
  };
};

export default bench;
