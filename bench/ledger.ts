import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Ledger,
  type LedgerStore,
  openLedger,
  postgresStore,
  SYSTEM_ACCOUNTS,
  sqliteStore,
} from "@dpn/ledger";
import { type Benchmark, type BenchRow, median, percentile } from "./harness.ts";

/**
 * How many durable postings per second does the ledger acknowledge? Every posting is a transfer
 * between two of 1,000 funded accounts (two entries, a balance check, an idempotency key) and
 * counts only once its promise resolved, i.e. after its transaction's COMMIT returned (SQLite:
 * WAL + synchronous=FULL, so after fsync). Three ways of calling it, same code, same run:
 *
 * - sequential: one caller awaiting each posting (one transaction per posting);
 * - group commit: many concurrent callers, batched into one transaction per flush;
 * - per-row-transaction baseline: the same many callers with batching switched off
 *   (maxBatchCommands = 1), i.e. one transaction and one fsync per posting.
 *
 * Goal from the issue: >= 250,000 postings/s on SQLite with group commit (TigerBeetle measures
 * 160-300k transfers/s). PostgreSQL rows run only when DPN_TEST_PG_URL is set.
 */
const ACCOUNTS = 1_000;

interface Load {
  readonly postingsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly avgBatch: number;
  readonly planShare: number;
  readonly writeShare: number;
  readonly commitShare: number;
}

interface Target {
  readonly name: string;
  open(maxBatchCommands?: number): Promise<{ ledger: Ledger; cleanup(): Promise<void> }>;
}

function sqliteTarget(): Target {
  return {
    name: "SQLite (WAL, synchronous=FULL)",
    async open(maxBatchCommands) {
      const dir = mkdtempSync(join(tmpdir(), "dpn-bench-ledger-"));
      const store = sqliteStore({
        path: join(dir, "ledger.db"),
        ...(maxBatchCommands === undefined ? {} : { maxBatchCommands }),
      });
      const ledger = await prepared(store);
      return {
        ledger,
        cleanup: async () => {
          await ledger.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

function postgresTarget(url: string): Target {
  let n = 0;
  return {
    name: "PostgreSQL 15 (local, fsync on)",
    async open(maxBatchCommands) {
      n += 1;
      const schema = `dpn_bench_${process.pid}_${n}`;
      const store = postgresStore({
        connectionString: url,
        schema,
        ...(maxBatchCommands === undefined ? {} : { maxBatchCommands }),
      });
      const ledger = await prepared(store);
      return {
        ledger,
        cleanup: async () => {
          const { sql } = await import("kysely");
          await sql.raw(`drop schema if exists "${schema}" cascade`).execute(ledger.store.reader());
          await ledger.close();
        },
      };
    },
  };
}

async function prepared(store: LedgerStore): Promise<Ledger> {
  const ledger = await openLedger({ store, verifyOnOpen: false });
  await ledger.genesis({ idempotencyKey: "genesis", nowMs: 1 });
  const ids = Array.from({ length: ACCOUNTS }, (_, i) => `owner:bench-${i}`);
  await Promise.all(ids.map((id) => ledger.openAccount(id, { nowMs: 1 })));
  await Promise.all(
    ids.map((id) =>
      ledger.transfer({
        idempotencyKey: `fund-${id}`,
        from: SYSTEM_ACCOUNTS.contributors,
        to: id,
        amount: 5n * 10n ** 21n,
        nowMs: 1,
      }),
    ),
  );
  return ledger;
}

async function load(
  ledger: Ledger,
  callers: number,
  durationMs: number,
  tag: string,
): Promise<Load> {
  const latencies: number[] = [];
  const before = ledger.store.stats();
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const from = (caller * 7 + i * 13) % ACCOUNTS;
        const to = (from + 1 + ((caller + i) % (ACCOUNTS - 1))) % ACCOUNTS;
        const t = performance.now();
        await ledger.transfer({
          idempotencyKey: `${tag}-${caller}-${i}`,
          from: `owner:bench-${from}`,
          to: `owner:bench-${to}`,
          amount: 1n,
          nowMs: 2,
        });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const after = ledger.store.stats();
  const share = (key: "planMs" | "writeMs" | "commitMs"): number =>
    (after[key] - before[key]) / (seconds * 1000);
  return {
    postingsPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    avgBatch: (after.commands - before.commands) / Math.max(1, after.batches - before.batches),
    planShare: share("planMs"),
    writeShare: share("writeMs"),
    commitShare: share("commitMs"),
  };
}

const bench: Benchmark = async ({ quick }) => {
  const repeats = quick ? 1 : 3;
  const durationMs = quick ? 700 : 3_000;
  const url = process.env.DPN_TEST_PG_URL;
  const targets = [sqliteTarget(), ...(url === undefined ? [] : [postgresTarget(url)])];
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  for (const target of targets) {
    const callers = 1_024;
    const modes: { mode: string; callers: number; maxBatch?: number }[] = [
      { mode: "sequential (1 caller, awaits each)", callers: 1 },
      { mode: "group commit", callers },
      { mode: "per-row transaction baseline", callers, maxBatch: 1 },
    ];
    const results = new Map<string, Load>();
    for (const { mode, callers: c, maxBatch } of modes) {
      const runs: Load[] = [];
      for (let run = 0; run < repeats; run++) {
        const { ledger, cleanup } = await target.open(maxBatch);
        try {
          runs.push(await load(ledger, c, durationMs, `r${run}`));
        } finally {
          await cleanup();
        }
      }
      const pick = (key: keyof Load): number => median(runs.map((r) => r[key]));
      const result: Load = {
        postingsPerSec: pick("postingsPerSec"),
        p50Ms: pick("p50Ms"),
        p99Ms: pick("p99Ms"),
        avgBatch: pick("avgBatch"),
        planShare: pick("planShare"),
        writeShare: pick("writeShare"),
        commitShare: pick("commitShare"),
      };
      results.set(mode, result);
      rows.push({
        store: target.name,
        mode,
        callers: c,
        "postings/s": Math.round(result.postingsPerSec),
        "p50 ack ms": Number(result.p50Ms.toFixed(2)),
        "p99 ack ms": Number(result.p99Ms.toFixed(2)),
        "avg batch": Math.round(result.avgBatch),
        "time: plan/write/commit %": `${pct(result.planShare)}/${pct(result.writeShare)}/${pct(result.commitShare)}`,
        runs: repeats,
      });
    }
    const group = results.get("group commit")?.postingsPerSec ?? Number.NaN;
    const baseline = results.get("per-row transaction baseline")?.postingsPerSec ?? Number.NaN;
    notes.push(
      `${target.name}: group commit is ${(group / baseline).toFixed(1)}x the per-row-transaction baseline.`,
    );
  }
  if (url === undefined)
    notes.push(
      "PostgreSQL rows skipped: set DPN_TEST_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test) to run them.",
    );
  notes.push(
    "A posting = one transfer between two of 1,000 funded accounts: idempotency-key lookup, balance check, 1 posting row + 2 entry rows + 2 balance updates, acknowledged after COMMIT.",
    "time: share of wall time the writer spent planning (reads, validation, executor), writing rows, and in COMMIT (fsync); the rest is JS outside the writer (callers, promises, event loop).",
    "Goal >= 250,000 postings/s on SQLite with group commit: compare with the group commit row above.",
  );
  return {
    name: "ledger",
    question:
      "How many durable postings per second does the ledger acknowledge, with and without group commit?",
    rows,
    notes,
  };
};

function pct(share: number): string {
  return String(Math.round(share * 100));
}

export default bench;
