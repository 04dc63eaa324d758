import type { Kysely } from "kysely";
import type { Command } from "../commands.ts";
import type { Posting } from "../postings.ts";
import type { SnapshotRecord } from "../snapshot.ts";
import type { AccountState } from "../state.ts";
import type { Dialect, LedgerDatabase } from "./schema.ts";

/**
 * What the ledger needs from storage. Two implementations: `sqliteStore` (embedded default) and
 * `postgresStore` (several nodes sharing one database). Both run the same batch executor
 * (batch.ts), schema and queries (schema.ts, queries.ts); they differ in how they read the
 * state a batch needs and how they keep concurrent writers apart.
 */
export interface LedgerStore {
  readonly dialect: Dialect;
  /** Creates or migrates the schema. Called once by openLedger. */
  open(): Promise<void>;
  /**
   * Queues a command for the next group commit. Resolves after the batch holding it has
   * committed durably; rejects with the command's own DpnError if it failed (its neighbours
   * still commit), or with LEDGER_STORAGE_FAILED if the whole batch could not be written.
   */
  execute(command: Command): Promise<Posting | AccountState>;
  /** Kysely for single reads of committed data (a separate read connection on SQLite). */
  reader(): Kysely<LedgerDatabase>;
  /** Runs `read` inside one read transaction: every query sees the same committed state. */
  readConsistent<T>(read: (db: Kysely<LedgerDatabase>) => Promise<T>): Promise<T>;
  /** Records the balances of every account as epoch `epoch`, atomically. */
  takeSnapshot(epoch: number, atMs: number): Promise<SnapshotRecord>;
  /** Flushes queued commands, then releases connections. */
  close(): Promise<void>;
  /** What this process's writer has done so far (group commit efficiency, where time goes). */
  stats(): StoreStats;
}

export interface StoreStats {
  readonly batches: number;
  readonly commands: number;
  /** Milliseconds spent in the batch executor (reads, planning, validation). */
  readonly planMs: number;
  /** Milliseconds spent writing rows. */
  readonly writeMs: number;
  /** Milliseconds spent in COMMIT (the fsync). */
  readonly commitMs: number;
  /** Batches retried after a lock conflict with another process (PostgreSQL). */
  readonly retries: number;
}
