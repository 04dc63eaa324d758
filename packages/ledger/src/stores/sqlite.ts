import Database from "better-sqlite3";
import { type Insertable, Kysely, type Selectable, SqliteDialect } from "kysely";
import { type BatchWrites, type CommandOutcome, counterSeqs, runBatch } from "../batch.ts";
import type { Command } from "../commands.ts";
import { invariant, ledgerError } from "../errors.ts";
import { GroupCommit, MAX_BATCH_COMMANDS, type Pending } from "../groupCommit.ts";
import type { Posting } from "../postings.ts";
import { type SnapshotRecord, snapshotLeaves, snapshotRecord } from "../snapshot.ts";
import type {
  AccountState,
  HoldState,
  LedgerState,
  MetaState,
  StakeState,
  StoredPosting,
  UnbondingState,
} from "../state.ts";
import * as q from "./queries.ts";
import {
  accountFromRow,
  accountToRow,
  entryToRow,
  holdFromRow,
  holdToRow,
  metaFromRows,
  metaToRows,
  postingFromRow,
  postingToRow,
  stakeFromRow,
  stakeToRow,
  unbondingFromRow,
  unbondingToRow,
} from "./rows.ts";
import type {
  AccountsTable,
  EntriesTable,
  HoldsTable,
  LedgerDatabase,
  MetaTable,
  PostingsTable,
  SnapshotLeavesTable,
  StakesTable,
  UnbondingsTable,
} from "./schema.ts";
import { migrateToLatest } from "./schema.ts";
import { settle, storageFailure } from "./settle.ts";
import { compileTemplate, marker, RowWriter } from "./sqliteTemplates.ts";
import type { LedgerStore, StoreStats } from "./store.ts";

export interface SqliteStoreOptions {
  /** Database file. Created if missing. */
  readonly path: string;
  /** How long a writer waits for another process's write lock before failing, ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** At most this many commands per transaction. Default MAX_BATCH_COMMANDS; 1 disables group commit. */
  readonly maxBatchCommands?: number;
}

/**
 * The embedded default store: better-sqlite3 in WAL mode with synchronous=FULL, so a COMMIT has
 * reached the disk (the WAL is fsynced) before it returns. Writes go through group commit: one
 * synchronous transaction per batch (BEGIN IMMEDIATE … COMMIT, nothing else can interleave on
 * the event loop), reads use a second connection that sees only committed data.
 */
export function sqliteStore(options: SqliteStoreOptions): LedgerStore {
  return new SqliteStore(options);
}

type Statement = Database.Statement;

class SqliteStore implements LedgerStore {
  readonly dialect = "sqlite" as const;
  private writer: Database.Database | null = null;
  private readConnection: Database.Database | null = null;
  private readDb: Kysely<LedgerDatabase> | null = null;
  private statements: Statements | null = null;
  private readonly queue: GroupCommit<Command, Posting | AccountState>;
  private readonly timing = { planMs: 0, writeMs: 0, commitMs: 0 };

  constructor(private readonly options: SqliteStoreOptions) {
    this.queue = new GroupCommit(
      (batch) => this.flush(batch),
      options.maxBatchCommands ?? MAX_BATCH_COMMANDS,
    );
  }

  async open(): Promise<void> {
    const writer = new Database(this.options.path);
    writer.pragma("journal_mode = WAL");
    writer.pragma("synchronous = FULL");
    writer.pragma(`busy_timeout = ${this.options.busyTimeoutMs ?? 5_000}`);
    // 64 MiB page cache (default 2 MiB): entries and the idempotency index take random inserts.
    writer.pragma("cache_size = -65536");
    const journal = String(writer.pragma("journal_mode", { simple: true }));
    invariant(journal === "wal", "SQLite refused WAL mode", { journal });
    // 2 = FULL: COMMIT returns only after the WAL is fsynced. Anything less could lose an
    // acknowledged posting on power loss.
    const synchronous = Number(writer.pragma("synchronous", { simple: true }));
    invariant(synchronous === 2, "SQLite refused synchronous=FULL", { synchronous });
    const migrator = new Kysely<LedgerDatabase>({
      dialect: new SqliteDialect({ database: writer }),
    });
    await migrateToLatest(migrator, "sqlite");
    this.statements = new Statements(writer, migrator);
    this.writer = writer;
    const reader = new Database(this.options.path, { readonly: true });
    reader.pragma(`busy_timeout = ${this.options.busyTimeoutMs ?? 5_000}`);
    this.readConnection = reader;
    this.readDb = new Kysely<LedgerDatabase>({ dialect: new SqliteDialect({ database: reader }) });
  }

  execute(command: Command): Promise<Posting | AccountState> {
    return this.queue.submit(command);
  }

  reader(): Kysely<LedgerDatabase> {
    return this.requireReadDb();
  }

  async readConsistent<T>(read: (db: Kysely<LedgerDatabase>) => Promise<T>): Promise<T> {
    const db = this.requireReadDb();
    // Kysely's SQLite driver serialises use of the connection, so the transaction is not shared.
    return db.transaction().execute((trx) => read(trx));
  }

  async takeSnapshot(epoch: number, atMs: number): Promise<SnapshotRecord> {
    // Runs synchronously on the writer between batches: a consistent cut at a known seq.
    const { writer, statements } = this.requireWriter();
    writer.exec("BEGIN IMMEDIATE");
    try {
      if (statements.snapshotByEpoch.get(epoch) !== undefined) {
        throw ledgerError(
          "LEDGER_SNAPSHOT_EXISTS",
          `A snapshot of epoch ${epoch} already exists.`,
          {
            hint: "Snapshots are immutable; read it with ledger.snapshotOf(epoch).",
            details: { epoch },
          },
        );
      }
      const rows = statements.allAccounts.all() as Selectable<AccountsTable>[];
      const leaves = snapshotLeaves(rows);
      const record = snapshotRecord(epoch, statements.maxSeq(), atMs, leaves);
      statements.insertSnapshot.run(
        record.epoch,
        record.seq,
        record.root,
        record.leafCount,
        record.atMs,
      );
      statements.leaves.write(
        leaves.map((leaf) => ({
          epoch,
          account_id: leaf.account,
          balance: leaf.balance.toString(),
        })),
      );
      writer.exec("COMMIT");
      return record;
    } catch (error) {
      if (writer.inTransaction) writer.exec("ROLLBACK");
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.readDb?.destroy();
    this.readConnection?.close();
    this.writer?.close();
    this.readDb = null;
    this.readConnection = null;
    this.writer = null;
  }

  stats(): StoreStats {
    return { batches: this.queue.batches, commands: this.queue.jobs, retries: 0, ...this.timing };
  }

  private flush(batch: readonly Pending<Command, Posting | AccountState>[]): void {
    const { writer, statements } = this.requireWriter();
    let outcomes: CommandOutcome[];
    const t0 = performance.now();
    writer.exec("BEGIN IMMEDIATE");
    try {
      const base = new SqliteState(statements);
      const result = runBatch(
        batch.map((pending) => pending.job),
        base,
        counterSeqs(statements.maxSeq()),
      );
      const t1 = performance.now();
      statements.write(result.writes);
      const t2 = performance.now();
      writer.exec("COMMIT");
      const t3 = performance.now();
      this.timing.planMs += t1 - t0;
      this.timing.writeMs += t2 - t1;
      this.timing.commitMs += t3 - t2;
      outcomes = result.outcomes;
    } catch (error) {
      if (writer.inTransaction) writer.exec("ROLLBACK");
      const failure = storageFailure(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    settle(batch, outcomes);
  }

  private requireWriter(): { writer: Database.Database; statements: Statements } {
    if (this.writer === null || this.statements === null) throw closedError();
    return { writer: this.writer, statements: this.statements };
  }

  private requireReadDb(): Kysely<LedgerDatabase> {
    if (this.readDb === null) throw closedError();
    return this.readDb;
  }
}

function closedError(): Error {
  return ledgerError("LEDGER_CLOSED", "The ledger store is not open.", {
    hint: "Use openLedger() and do not use it after close().",
  });
}

/** The committed state, read lazily inside the batch's write transaction and cached for it. */
class SqliteState implements LedgerState {
  private readonly accounts = new Map<string, AccountState | undefined>();
  private readonly holds = new Map<string, HoldState | undefined>();
  private readonly stakes = new Map<string, StakeState | undefined>();
  private readonly pending = new Map<string, UnbondingState[]>();
  private metaState: MetaState | null = null;

  constructor(private readonly s: Statements) {}

  account(id: string): AccountState | undefined {
    if (this.accounts.has(id)) return this.accounts.get(id);
    const row = this.s.account.get(id) as Selectable<AccountsTable> | undefined;
    const account = row === undefined ? undefined : accountFromRow(row);
    this.accounts.set(id, account);
    return account;
  }
  hold(id: string): HoldState | undefined {
    if (this.holds.has(id)) return this.holds.get(id);
    const row = this.s.hold.get(id) as Selectable<HoldsTable> | undefined;
    const hold = row === undefined ? undefined : holdFromRow(row);
    this.holds.set(id, hold);
    return hold;
  }
  stake(account: string): StakeState | undefined {
    if (this.stakes.has(account)) return this.stakes.get(account);
    const row = this.s.stake.get(account) as Selectable<StakesTable> | undefined;
    const stake = row === undefined ? undefined : stakeFromRow(row);
    this.stakes.set(account, stake);
    return stake;
  }
  unbondings(account: string): readonly UnbondingState[] {
    let list = this.pending.get(account);
    if (list === undefined) {
      list = (this.s.unbondings.all(account) as Selectable<UnbondingsTable>[]).map(
        unbondingFromRow,
      );
      this.pending.set(account, list);
    }
    return list;
  }
  receiptSeq(receiptId: string): number | undefined {
    const row = this.s.receipt.get(receiptId) as { seq: number } | undefined;
    return row?.seq;
  }
  postingByKey(idempotencyKey: string): StoredPosting | undefined {
    const row = this.s.postingByKey.get(idempotencyKey) as Selectable<PostingsTable> | undefined;
    return row === undefined ? undefined : postingFromRow(row);
  }
  meta(): MetaState {
    if (this.metaState === null)
      this.metaState = metaFromRows(this.s.meta.all() as Selectable<MetaTable>[]);
    return this.metaState;
  }
}

/** Every statement of the SQLite write path, compiled once from the shared queries. */
class Statements {
  readonly account: Statement;
  readonly hold: Statement;
  readonly stake: Statement;
  readonly unbondings: Statement;
  readonly receipt: Statement;
  readonly postingByKey: Statement;
  readonly meta: Statement;
  readonly allAccounts: Statement;
  readonly snapshotByEpoch: Statement;
  readonly insertSnapshot: Statement;
  private readonly maxSeqStatement: Statement;
  private readonly postings: RowWriter<Insertable<PostingsTable>>;
  private readonly entries: RowWriter<Insertable<EntriesTable>>;
  private readonly newAccounts: RowWriter<Insertable<AccountsTable>>;
  private readonly accounts: RowWriter<Insertable<AccountsTable>>;
  private readonly newHolds: RowWriter<Insertable<HoldsTable>>;
  private readonly holds: RowWriter<Insertable<HoldsTable>>;
  private readonly newStakes: RowWriter<Insertable<StakesTable>>;
  private readonly stakes: RowWriter<Insertable<StakesTable>>;
  private readonly newUnbondings: RowWriter<Insertable<UnbondingsTable>>;
  private readonly unbondingRows: RowWriter<Insertable<UnbondingsTable>>;
  private readonly metaRows: RowWriter<Insertable<MetaTable>>;
  readonly leaves: RowWriter<Insertable<SnapshotLeavesTable>>;

  constructor(db: Database.Database, k: Kysely<LedgerDatabase>) {
    const one = (query: Parameters<typeof compileTemplate>[0], count = 1): Statement =>
      db.prepare(compileTemplate(query, count));
    const m = marker<string>(0);
    this.account = one(q.selectAccounts(k, [m]));
    this.hold = one(q.selectHolds(k, [m]));
    this.stake = one(q.selectStakes(k, [m]));
    this.unbondings = one(q.selectPendingUnbondings(k, [m]));
    this.receipt = one(q.selectReceipts(k, [m]));
    this.postingByKey = one(q.selectPostingsByKey(k, [m]));
    this.meta = one(q.selectMeta(k), 0);
    this.allAccounts = one(q.selectAllAccounts(k), 0);
    this.snapshotByEpoch = one(q.selectSnapshot(k, marker<number>(0)));
    this.insertSnapshot = one(
      q.insertSnapshot(k, {
        epoch: marker(0),
        seq: marker(1),
        root: marker(2),
        leaf_count: marker(3),
        at_ms: marker(4),
      }),
      5,
    );
    this.maxSeqStatement = one(q.selectMaxSeq(k), 0);
    const accountColumns = [
      "id",
      "kind",
      "balance",
      "opened_at_ms",
      "updated_at_ms",
      "last_seq",
    ] as const;
    const holdColumns = [
      "id",
      "account_id",
      "amount",
      "captured",
      "status",
      "expires_at_ms",
      "placed_seq",
      "closed_seq",
    ] as const;
    const unbondingColumns = ["id", "account_id", "amount", "release_at_ms", "status"] as const;
    this.postings = new RowWriter(
      db,
      ["seq", "idempotency_key", "kind", "at_ms", "content", "entries", "receipt_id"],
      (rows) => q.insertPostings(k, rows),
    );
    this.entries = new RowWriter(
      db,
      ["account_id", "seq", "amount", "balance_after", "at_ms"],
      (rows) => q.insertEntries(k, rows),
    );
    this.newAccounts = new RowWriter(db, accountColumns, (rows) => q.insertAccounts(k, rows));
    this.accounts = new RowWriter(db, accountColumns, (rows) => q.updateAccounts(k, rows));
    this.newHolds = new RowWriter(db, holdColumns, (rows) => q.insertHolds(k, rows));
    this.holds = new RowWriter(db, holdColumns, (rows) => q.updateHolds(k, rows));
    this.newStakes = new RowWriter(db, ["account_id", "bonded"], (rows) => q.insertStakes(k, rows));
    this.stakes = new RowWriter(db, ["account_id", "bonded"], (rows) => q.updateStakes(k, rows));
    this.newUnbondings = new RowWriter(db, unbondingColumns, (rows) => q.insertUnbondings(k, rows));
    this.unbondingRows = new RowWriter(db, unbondingColumns, (rows) => q.updateUnbondings(k, rows));
    this.metaRows = new RowWriter(db, ["key", "value"], (rows) => q.updateMeta(k, rows));
    this.leaves = new RowWriter(db, ["epoch", "account_id", "balance"], (rows) =>
      q.insertSnapshotLeaves(k, rows),
    );
  }

  maxSeq(): number {
    const row = this.maxSeqStatement.get() as { seq: number | null };
    return row.seq ?? 0;
  }

  write(writes: BatchWrites): void {
    this.newAccounts.write(writes.accounts.inserted.map(accountToRow));
    this.postings.write(writes.postings.map(postingToRow));
    this.entries.write(writes.entries.map(entryToRow));
    this.accounts.write(writes.accounts.updated.map(accountToRow));
    this.newHolds.write(writes.holds.inserted.map(holdToRow));
    this.holds.write(writes.holds.updated.map(holdToRow));
    this.newStakes.write(writes.stakes.inserted.map(stakeToRow));
    this.stakes.write(writes.stakes.updated.map(stakeToRow));
    this.newUnbondings.write(writes.unbondings.inserted.map(unbondingToRow));
    this.unbondingRows.write(writes.unbondings.updated.map(unbondingToRow));
    if (writes.meta !== null) this.metaRows.write(metaToRows(writes.meta));
  }
}
