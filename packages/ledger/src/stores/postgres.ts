import { Kysely, PostgresDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import { type BatchWrites, runBatch, type SeqSource } from "../batch.ts";
import type { Command } from "../commands.ts";
import { invariant, ledgerError } from "../errors.ts";
import { addFootprint, addHoldAccounts, emptyFootprint, type Footprint } from "../footprint.ts";
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
import { type LedgerDatabase, migrateToLatest, POSTING_SEQUENCE } from "./schema.ts";
import { settle, storageFailure } from "./settle.ts";
import type { LedgerStore, StoreStats } from "./store.ts";

export interface PostgresStoreOptions {
  /** e.g. postgres://postgres@127.0.0.1:5432/test */
  readonly connectionString: string;
  /** PostgreSQL schema holding the ledger's tables; created if missing. Default "dpn_ledger". */
  readonly schema?: string;
  /** Connections: one writes batches, the others serve reads. Default 4. */
  readonly poolSize?: number;
  /** At most this many commands per transaction. Default MAX_BATCH_COMMANDS; 1 disables group commit. */
  readonly maxBatchCommands?: number;
}

/**
 * How often a batch is retried after a serialisation failure, a deadlock or a unique-key race
 * with another process (each retry re-reads everything, so the outcome is always fresh). Eight
 * attempts with jittered backoff ride out heavy contention; beyond that callers see
 * LEDGER_STORAGE_FAILED and may retry with the same idempotency key.
 */
export const MAX_BATCH_ATTEMPTS = 8;
/** PostgreSQL's limit is 65,535 bind parameters per statement; stay well below it. */
const MAX_PARAMETERS_PER_STATEMENT = 30_000;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** SQLSTATEs worth retrying: serialization_failure, deadlock_detected, unique_violation. */
const RETRYABLE = new Set(["40001", "40P01", "23505"]);

/**
 * The shared store. Several bank nodes may run it against one database: every batch runs in a
 * READ COMMITTED transaction that first locks (SELECT … FOR UPDATE) every row its commands may
 * read, in one global order (meta, holds, stakes, accounts; each sorted by key), and only then
 * reads balances and allocates posting numbers. Two processes can therefore never both spend
 * the same balance: the second waits for the first to commit and then sees its result. Rows
 * that do not exist yet (a new hold id, an idempotency key) are protected by unique keys: a
 * racing insert fails with unique_violation and the whole batch is retried, and then sees the
 * winner's row.
 */
export function postgresStore(options: PostgresStoreOptions): LedgerStore {
  return new PostgresStore(options);
}

class PostgresStore implements LedgerStore {
  readonly dialect = "postgres" as const;
  private readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly db: Kysely<LedgerDatabase>;
  private readonly queue: GroupCommit<Command, Posting | AccountState>;
  private readonly timing = { planMs: 0, writeMs: 0, commitMs: 0, retries: 0 };
  private open_ = false;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? "dpn_ledger";
    if (!SCHEMA_NAME.test(schema)) {
      throw ledgerError(
        "LEDGER_INVALID_INPUT",
        `${JSON.stringify(schema)} is not a valid schema name.`,
        {
          hint: "Use lower-case letters, digits and underscores, starting with a letter.",
        },
      );
    }
    this.schema = schema;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 4,
      options: `-c search_path=${schema}`,
      types: { getTypeParser: typeParser },
    });
    this.db = new Kysely<LedgerDatabase>({ dialect: new PostgresDialect({ pool: this.pool }) });
    this.queue = new GroupCommit(
      (batch) => this.flush(batch),
      options.maxBatchCommands ?? MAX_BATCH_COMMANDS,
    );
  }

  async open(): Promise<void> {
    // Serialise concurrent first opens of one schema (several nodes starting together).
    const client = await this.pool.connect();
    try {
      await client.query("select pg_advisory_lock(hashtext($1))", [this.schema]);
      await client.query(`create schema if not exists "${this.schema}"`);
      await migrateToLatest(this.db, "postgres", this.schema);
    } finally {
      await client
        .query("select pg_advisory_unlock(hashtext($1))", [this.schema])
        .catch(() => undefined);
      client.release();
    }
    this.open_ = true;
  }

  execute(command: Command): Promise<Posting | AccountState> {
    if (!this.open_) return Promise.reject(closed());
    return this.queue.submit(command);
  }

  reader(): Kysely<LedgerDatabase> {
    return this.db;
  }

  readConsistent<T>(read: (db: Kysely<LedgerDatabase>) => Promise<T>): Promise<T> {
    return this.db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute((trx) => read(trx));
  }

  async takeSnapshot(epoch: number, atMs: number): Promise<SnapshotRecord> {
    try {
      return await this.db
        .transaction()
        .setIsolationLevel("repeatable read")
        .execute(async (trx) => {
          if ((await q.selectSnapshot(trx, epoch).executeTakeFirst()) !== undefined)
            throw snapshotExists(epoch);
          const leaves = snapshotLeaves(await q.selectAllAccounts(trx).execute());
          const maxSeq = await q.selectMaxSeq(trx).executeTakeFirst();
          const record = snapshotRecord(epoch, Number(maxSeq?.seq ?? 0), atMs, leaves);
          await q
            .insertSnapshot(trx, {
              epoch,
              seq: record.seq,
              root: record.root,
              leaf_count: record.leafCount,
              at_ms: atMs,
            })
            .execute();
          await insertChunked(
            leaves.map((l) => ({ epoch, account_id: l.account, balance: l.balance.toString() })),
            3,
            (rows) => q.insertSnapshotLeaves(trx, rows).execute(),
          );
          return record;
        });
    } catch (error) {
      if (sqlState(error) === "23505") throw snapshotExists(epoch);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.open_ = false;
    await this.db.destroy();
  }

  stats(): StoreStats {
    return { batches: this.queue.batches, commands: this.queue.jobs, ...this.timing };
  }

  private async flush(batch: readonly Pending<Command, Posting | AccountState>[]): Promise<void> {
    const commands = batch.map((pending) => pending.job);
    for (let attempt = 1; ; attempt++) {
      try {
        let t2 = 0;
        const t0 = performance.now();
        const outcomes = await this.db.transaction().execute(async (trx) => {
          const state = await PreloadedState.load(trx, commands);
          const seqs = await allocateSeqs(
            trx,
            commands.filter((c) => c.kind !== "openAccount").length,
          );
          const { outcomes, writes } = runBatch(commands, state, seqs);
          const t1 = performance.now();
          await writeBatch(trx, writes);
          t2 = performance.now();
          this.timing.planMs += t1 - t0;
          this.timing.writeMs += t2 - t1;
          return outcomes;
        });
        this.timing.commitMs += performance.now() - t2;
        settle(batch, outcomes);
        return;
      } catch (error) {
        const state = sqlState(error);
        if (state !== undefined && RETRYABLE.has(state) && attempt < MAX_BATCH_ATTEMPTS) {
          this.timing.retries += 1;
          // Jittered exponential backoff so that two racing nodes stop colliding.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
          continue;
        }
        const failure = storageFailure(error);
        for (const pending of batch) pending.reject(failure);
        return;
      }
    }
  }
}

function typeParser(oid: number, format?: string): (value: string) => unknown {
  // int8 (seq, times) as a number; amounts are NUMERIC and stay decimal strings.
  if (oid === 20) {
    return (value: string) => {
      const n = Number(value);
      invariant(Number.isSafeInteger(n), "a bigint column exceeds 2^53", { value });
      return n;
    };
  }
  return pg.types.getTypeParser(oid, format === "binary" ? "binary" : "text") as (
    value: string,
  ) => unknown;
}

function sqlState(error: unknown): string | undefined {
  if (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string"
  )
    return error.code;
  return undefined;
}

function closed(): Error {
  return ledgerError("LEDGER_CLOSED", "The ledger store is not open.", {
    hint: "Use openLedger() and do not use it after close().",
  });
}

function snapshotExists(epoch: number): Error {
  return ledgerError("LEDGER_SNAPSHOT_EXISTS", `A snapshot of epoch ${epoch} already exists.`, {
    hint: "Snapshots are immutable; read it with ledger.snapshotOf(epoch).",
    details: { epoch },
  });
}

async function allocateSeqs(trx: Transaction<LedgerDatabase>, count: number): Promise<SeqSource> {
  const seqs: number[] = [];
  if (count > 0) {
    const { rows } = await sql<{
      seq: number;
    }>`select nextval(${sql.lit(POSTING_SEQUENCE)}) as seq from generate_series(1, ${count})`.execute(
      trx,
    );
    for (const row of rows) seqs.push(Number(row.seq));
    seqs.sort((a, b) => a - b);
  }
  let next = 0;
  const peek = (): number => {
    const seq = seqs[next];
    invariant(seq !== undefined, "a batch used more posting numbers than it allocated");
    return seq;
  };
  return {
    peek,
    take: () => {
      const seq = peek();
      next += 1;
      return seq;
    },
  };
}

async function insertChunked<Row extends object>(
  rows: readonly Row[],
  columns: number,
  run: (rows: Row[]) => Promise<unknown>,
): Promise<void> {
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS_PER_STATEMENT / columns));
  for (let i = 0; i < rows.length; i += perStatement) await run(rows.slice(i, i + perStatement));
}

async function writeBatch(trx: Transaction<LedgerDatabase>, writes: BatchWrites): Promise<void> {
  const run = <Row extends object>(
    rows: Row[],
    columns: number,
    build: (rows: Row[]) => { execute(): Promise<unknown> },
  ) => insertChunked(rows, columns, (chunk) => build(chunk).execute());
  await run(writes.accounts.inserted.map(accountToRow), 6, (rows) => q.insertAccounts(trx, rows));
  await run(writes.postings.map(postingToRow), 7, (rows) => q.insertPostings(trx, rows));
  await run(writes.entries.map(entryToRow), 5, (rows) => q.insertEntries(trx, rows));
  await run(writes.accounts.updated.map(accountToRow), 6, (rows) => q.updateAccounts(trx, rows));
  await run(writes.holds.inserted.map(holdToRow), 8, (rows) => q.insertHolds(trx, rows));
  await run(writes.holds.updated.map(holdToRow), 8, (rows) => q.updateHolds(trx, rows));
  await run(writes.stakes.inserted.map(stakeToRow), 2, (rows) => q.insertStakes(trx, rows));
  await run(writes.stakes.updated.map(stakeToRow), 2, (rows) => q.updateStakes(trx, rows));
  await run(writes.unbondings.inserted.map(unbondingToRow), 5, (rows) =>
    q.insertUnbondings(trx, rows),
  );
  await run(writes.unbondings.updated.map(unbondingToRow), 5, (rows) =>
    q.updateUnbondings(trx, rows),
  );
  if (writes.meta !== null)
    await run(metaToRows(writes.meta), 2, (rows) => q.updateMeta(trx, rows));
}

/**
 * The state of one batch, read (and locked) before planning. A planner that reads a row outside
 * the batch's footprint trips an assertion: it would otherwise read a row it has not locked.
 */
class PreloadedState implements LedgerState {
  private constructor(
    private readonly fp: Footprint,
    private readonly accounts: Map<string, AccountState>,
    private readonly holds: Map<string, HoldState>,
    private readonly stakes: Map<string, StakeState>,
    private readonly pending: Map<string, UnbondingState[]>,
    private readonly receipts: Map<string, number>,
    private readonly postings: Map<string, StoredPosting>,
    private readonly metaState: MetaState,
  ) {}

  static async load(
    trx: Transaction<LedgerDatabase>,
    commands: readonly Command[],
  ): Promise<PreloadedState> {
    const fp = emptyFootprint();
    for (const command of commands) addFootprint(fp, command);
    const sorted = (set: Set<string>): string[] => [...set].sort();
    // Lock order: meta, holds, stakes, accounts (each sorted by key). Every batch of every
    // process follows it, so lock waits never form a cycle.
    const metaQuery = q.selectMeta(trx);
    const metaRows = await (fp.meta ? metaQuery.forUpdate() : metaQuery).execute();
    const holds = new Map<string, HoldState>();
    if (fp.holds.size > 0) {
      for (const row of await q.selectHolds(trx, sorted(fp.holds)).forUpdate().execute())
        holds.set(row.id, holdFromRow(row));
    }
    addHoldAccounts(fp, holds.values());
    const stakes = new Map<string, StakeState>();
    const pending = new Map<string, UnbondingState[]>();
    if (fp.stakes.size > 0) {
      for (const row of await q.selectStakes(trx, sorted(fp.stakes)).forUpdate().execute())
        stakes.set(row.account_id, stakeFromRow(row));
    }
    const accounts = new Map<string, AccountState>();
    for (const row of await q.selectAccounts(trx, sorted(fp.accounts)).forUpdate().execute())
      accounts.set(row.id, accountFromRow(row));
    if (fp.stakes.size > 0) {
      // Read after the accounts are locked: every staking operation locks its account.
      for (const account of fp.stakes) pending.set(account, []);
      for (const row of await q.selectPendingUnbondings(trx, sorted(fp.stakes)).execute()) {
        pending.get(row.account_id)?.push(unbondingFromRow(row));
      }
    }
    const receipts = new Map<string, number>();
    if (fp.receipts.size > 0) {
      for (const row of await q.selectReceipts(trx, sorted(fp.receipts)).execute()) {
        if (row.receipt_id !== null) receipts.set(row.receipt_id, Number(row.seq));
      }
    }
    const postings = new Map<string, StoredPosting>();
    if (fp.idempotencyKeys.size > 0) {
      for (const row of await q.selectPostingsByKey(trx, sorted(fp.idempotencyKeys)).execute()) {
        postings.set(row.idempotency_key, postingFromRow(row));
      }
    }
    return new PreloadedState(
      fp,
      accounts,
      holds,
      stakes,
      pending,
      receipts,
      postings,
      metaFromRows(metaRows),
    );
  }

  private declared(set: Set<string>, key: string, what: string): void {
    invariant(set.has(key), `a planner read ${what} ${key} outside the batch's locked footprint`);
  }

  account(id: string): AccountState | undefined {
    this.declared(this.fp.accounts, id, "account");
    return this.accounts.get(id);
  }
  hold(id: string): HoldState | undefined {
    this.declared(this.fp.holds, id, "hold");
    return this.holds.get(id);
  }
  stake(account: string): StakeState | undefined {
    this.declared(this.fp.stakes, account, "stake");
    return this.stakes.get(account);
  }
  unbondings(account: string): readonly UnbondingState[] {
    this.declared(this.fp.stakes, account, "unbondings of");
    return this.pending.get(account) ?? [];
  }
  receiptSeq(receiptId: string): number | undefined {
    this.declared(this.fp.receipts, receiptId, "receipt");
    return this.receipts.get(receiptId);
  }
  postingByKey(idempotencyKey: string): StoredPosting | undefined {
    this.declared(this.fp.idempotencyKeys, idempotencyKey, "idempotency key");
    return this.postings.get(idempotencyKey);
  }
  meta(): MetaState {
    return this.metaState;
  }
}
