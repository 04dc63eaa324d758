import { type Insertable, type Kysely, sql } from "kysely";
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

/**
 * The typed query layer both stores share. Each function builds one Kysely query; PostgreSQL
 * executes it directly, SQLite compiles it once into a prepared statement (`sqliteStatements.ts`)
 * because its hot path cannot afford to build a query per call. Same schema, same SQL shape.
 */
type Db = Kysely<LedgerDatabase>;

// ---- writes -------------------------------------------------------------------------------

export const insertPostings = (db: Db, rows: Insertable<PostingsTable>[]) =>
  db.insertInto("postings").values(rows);

export const insertEntries = (db: Db, rows: Insertable<EntriesTable>[]) =>
  db.insertInto("entries").values(rows);

export const insertAccounts = (db: Db, rows: Insertable<AccountsTable>[]) =>
  db.insertInto("accounts").values(rows);

/** For rows the batch read (and on PostgreSQL locked): an UPDATE written as an upsert. */
export const updateAccounts = (db: Db, rows: Insertable<AccountsTable>[]) =>
  db
    .insertInto("accounts")
    .values(rows)
    .onConflict((oc) =>
      oc.column("id").doUpdateSet((eb) => ({
        balance: eb.ref("excluded.balance"),
        updated_at_ms: eb.ref("excluded.updated_at_ms"),
        last_seq: eb.ref("excluded.last_seq"),
      })),
    );

export const insertHolds = (db: Db, rows: Insertable<HoldsTable>[]) =>
  db.insertInto("holds").values(rows);

export const updateHolds = (db: Db, rows: Insertable<HoldsTable>[]) =>
  db
    .insertInto("holds")
    .values(rows)
    .onConflict((oc) =>
      oc.column("id").doUpdateSet((eb) => ({
        status: eb.ref("excluded.status"),
        captured: eb.ref("excluded.captured"),
        closed_seq: eb.ref("excluded.closed_seq"),
      })),
    );

export const insertStakes = (db: Db, rows: Insertable<StakesTable>[]) =>
  db.insertInto("stakes").values(rows);

export const updateStakes = (db: Db, rows: Insertable<StakesTable>[]) =>
  db
    .insertInto("stakes")
    .values(rows)
    .onConflict((oc) =>
      oc.column("account_id").doUpdateSet((eb) => ({ bonded: eb.ref("excluded.bonded") })),
    );

export const insertUnbondings = (db: Db, rows: Insertable<UnbondingsTable>[]) =>
  db.insertInto("unbondings").values(rows);

export const updateUnbondings = (db: Db, rows: Insertable<UnbondingsTable>[]) =>
  db
    .insertInto("unbondings")
    .values(rows)
    .onConflict((oc) =>
      oc.column("id").doUpdateSet((eb) => ({
        amount: eb.ref("excluded.amount"),
        status: eb.ref("excluded.status"),
      })),
    );

export const updateMeta = (db: Db, rows: Insertable<MetaTable>[]) =>
  db
    .insertInto("meta")
    .values(rows)
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({ value: eb.ref("excluded.value") })),
    );

export const insertSnapshot = (db: Db, row: Insertable<LedgerDatabase["snapshots"]>) =>
  db.insertInto("snapshots").values(row);

export const insertSnapshotLeaves = (db: Db, rows: Insertable<SnapshotLeavesTable>[]) =>
  db.insertInto("snapshot_leaves").values(rows);

// ---- reads of the write path (PostgreSQL adds FOR UPDATE) --------------------------------

export const selectAccounts = (db: Db, ids: readonly string[]) =>
  db.selectFrom("accounts").selectAll().where("id", "in", ids).orderBy("id");

export const selectHolds = (db: Db, ids: readonly string[]) =>
  db.selectFrom("holds").selectAll().where("id", "in", ids).orderBy("id");

export const selectStakes = (db: Db, accounts: readonly string[]) =>
  db.selectFrom("stakes").selectAll().where("account_id", "in", accounts).orderBy("account_id");

export const selectPendingUnbondings = (db: Db, accounts: readonly string[]) =>
  db
    .selectFrom("unbondings")
    .selectAll()
    .where("account_id", "in", accounts)
    .where("status", "=", sql.lit("pending"))
    .orderBy("id");

export const selectReceipts = (db: Db, receiptIds: readonly string[]) =>
  db.selectFrom("postings").select(["receipt_id", "seq"]).where("receipt_id", "in", receiptIds);

export const selectPostingsByKey = (db: Db, keys: readonly string[]) =>
  db.selectFrom("postings").selectAll().where("idempotency_key", "in", keys);

export const selectMeta = (db: Db) => db.selectFrom("meta").selectAll().orderBy("key");

export const selectMaxSeq = (db: Db) =>
  db.selectFrom("postings").select((eb) => eb.fn.max("seq").as("seq"));

// ---- reads --------------------------------------------------------------------------------

export const selectPostingBySeq = (db: Db, seq: number) =>
  db.selectFrom("postings").selectAll().where("seq", "=", seq);

export const selectPostingsAfter = (db: Db, afterSeq: number, limit: number) =>
  db.selectFrom("postings").selectAll().where("seq", ">", afterSeq).orderBy("seq").limit(limit);

/** One account's entries, newest first, strictly before `beforeSeq`. */
export const selectHistory = (db: Db, account: string, beforeSeq: number, limit: number) =>
  db
    .selectFrom("entries")
    .innerJoin("postings", "postings.seq", "entries.seq")
    .select([
      "entries.seq",
      "entries.amount",
      "entries.balance_after",
      "entries.at_ms",
      "postings.kind",
      "postings.idempotency_key",
    ])
    .where("entries.account_id", "=", account)
    .where("entries.seq", "<", beforeSeq)
    .orderBy("entries.seq", "desc")
    .limit(limit);

export const selectBalanceAtSeq = (db: Db, account: string, seq: number) =>
  db
    .selectFrom("entries")
    .select(["balance_after", "seq"])
    .where("account_id", "=", account)
    .where("seq", "<=", seq)
    .orderBy("seq", "desc")
    .limit(1);

/** Entry times never decrease along an account's entries (batch.ts), so this is well defined. */
export const selectBalanceAtMs = (db: Db, account: string, atMs: number) =>
  db
    .selectFrom("entries")
    .select(["balance_after", "seq"])
    .where("account_id", "=", account)
    .where("at_ms", "<=", atMs)
    .orderBy("seq", "desc")
    .limit(1);

export const selectAllAccounts = (db: Db) => db.selectFrom("accounts").selectAll().orderBy("id");

export const selectAccountUnbondings = (db: Db, account: string) =>
  db.selectFrom("unbondings").selectAll().where("account_id", "=", account).orderBy("id");

export const selectSnapshot = (db: Db, epoch: number) =>
  db.selectFrom("snapshots").selectAll().where("epoch", "=", epoch);

/** The snapshot of the highest epoch (epoch is the table's key, so this reads one index entry). */
export const selectLatestSnapshot = (db: Db) =>
  db.selectFrom("snapshots").selectAll().orderBy("epoch", "desc").limit(1);

export const selectSnapshotLeaves = (db: Db, epoch: number) =>
  db
    .selectFrom("snapshot_leaves")
    .select(["account_id", "balance"])
    .where("epoch", "=", epoch)
    .orderBy("account_id");

// ---- audit --------------------------------------------------------------------------------

export const selectOpenHoldsTotal = (db: Db) =>
  db.selectFrom("holds").select(["amount"]).where("status", "=", "open");

export const selectStakeAmounts = (db: Db) => db.selectFrom("stakes").select(["bonded"]);

export const selectPendingAmounts = (db: Db) =>
  db.selectFrom("unbondings").select(["amount"]).where("status", "=", "pending");
