import {
  type Insertable,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";
import { MARKET_ACCOUNTS, SYSTEM_ACCOUNT_IDS, SYSTEM_ACCOUNTS } from "../accounts.ts";
import { EMPTY_META } from "../state.ts";
import { metaToRows } from "./rows.ts";

/**
 * The one schema of both stores, as Kysely table types. Amounts are exact decimal integers:
 * TEXT on SQLite (which has no 256-bit integers; arithmetic happens in bigint in JS) and
 * NUMERIC(78,0) on PostgreSQL (78 digits hold any uint256). Both drivers hand them to JS as
 * decimal strings. Times are integer milliseconds; seq is the posting sequence number.
 */
export interface AccountsTable {
  id: string;
  kind: string;
  balance: string;
  opened_at_ms: number;
  updated_at_ms: number;
  last_seq: number;
}
export interface PostingsTable {
  seq: number;
  idempotency_key: string;
  kind: string;
  at_ms: number;
  /** Canonical command content (commandContent): what the caller asked for. */
  content: string;
  /** The posting's entries as JSON, cross-checked against `entries` by the audit. */
  entries: string;
  receipt_id: string | null;
}
export interface EntriesTable {
  account_id: string;
  seq: number;
  amount: string;
  balance_after: string;
  at_ms: number;
}
export interface HoldsTable {
  id: string;
  account_id: string;
  amount: string;
  captured: string;
  status: string;
  expires_at_ms: number;
  placed_seq: number;
  closed_seq: number | null;
}
export interface StakesTable {
  account_id: string;
  bonded: string;
}
export interface UnbondingsTable {
  id: number;
  account_id: string;
  amount: string;
  release_at_ms: number;
  status: string;
}
export interface MetaTable {
  key: string;
  value: string;
}
export interface SnapshotsTable {
  epoch: number;
  seq: number;
  root: string;
  leaf_count: number;
  at_ms: number;
}
export interface SnapshotLeavesTable {
  epoch: number;
  account_id: string;
  balance: string;
}

export interface LedgerDatabase {
  accounts: AccountsTable;
  postings: PostingsTable;
  entries: EntriesTable;
  holds: HoldsTable;
  stakes: StakesTable;
  unbondings: UnbondingsTable;
  meta: MetaTable;
  snapshots: SnapshotsTable;
  snapshot_leaves: SnapshotLeavesTable;
}

export type Dialect = "sqlite" | "postgres";

export const POSTING_SEQUENCE = "posting_seq";

/** Name of the versioned-migrations table (one row per applied migration). */
export const MIGRATION_TABLE = "ledger_migrations";

/**
 * Versioned migrations, applied in name order by Kysely's Migrator. Never edit a released
 * migration: add the next one.
 */
export function ledgerMigrations(dialect: Dialect): Record<string, Migration> {
  const amount = dialect === "postgres" ? sql`numeric(78,0)` : sql`text`;
  const int = dialect === "postgres" ? "bigint" : "integer";
  const clustered = dialect === "sqlite" ? sql`without rowid` : sql``;
  return {
    "0001_ledger": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("accounts")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("balance", amount, (c) => c.notNull())
          .addColumn("opened_at_ms", int, (c) => c.notNull())
          .addColumn("updated_at_ms", int, (c) => c.notNull())
          .addColumn("last_seq", int, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("postings")
          .addColumn("seq", int, (c) => c.primaryKey())
          .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("at_ms", int, (c) => c.notNull())
          .addColumn("content", "text", (c) => c.notNull())
          .addColumn("entries", "text", (c) => c.notNull())
          .addColumn("receipt_id", "text")
          .execute();
        // Partial: only mints carry a receipt, so other postings pay for no index entry.
        await db.schema
          .createIndex("postings_receipt")
          .on("postings")
          .column("receipt_id")
          .unique()
          .where(sql.ref("receipt_id"), "is not", null)
          .execute();
        // Clustered by account then seq: history, point-in-time balances and the audit's
        // running-balance check all read one account's entries in order.
        await db.schema
          .createTable("entries")
          .addColumn("account_id", "text", (c) => c.notNull())
          .addColumn("seq", int, (c) => c.notNull())
          .addColumn("amount", amount, (c) => c.notNull())
          .addColumn("balance_after", amount, (c) => c.notNull())
          .addColumn("at_ms", int, (c) => c.notNull())
          .addPrimaryKeyConstraint("entries_pk", ["account_id", "seq"])
          .modifyEnd(clustered)
          .execute();
        await db.schema
          .createTable("holds")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("account_id", "text", (c) => c.notNull())
          .addColumn("amount", amount, (c) => c.notNull())
          .addColumn("captured", amount, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("expires_at_ms", int, (c) => c.notNull())
          .addColumn("placed_seq", int, (c) => c.notNull())
          .addColumn("closed_seq", int)
          .execute();
        await db.schema
          .createTable("stakes")
          .addColumn("account_id", "text", (c) => c.primaryKey())
          .addColumn("bonded", amount, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("unbondings")
          .addColumn("id", int, (c) => c.primaryKey())
          .addColumn("account_id", "text", (c) => c.notNull())
          .addColumn("amount", amount, (c) => c.notNull())
          .addColumn("release_at_ms", int, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("unbondings_account")
          .on("unbondings")
          .columns(["account_id", "status"])
          .execute();
        await db.schema
          .createTable("meta")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("snapshots")
          .addColumn("epoch", int, (c) => c.primaryKey())
          .addColumn("seq", int, (c) => c.notNull())
          .addColumn("root", "text", (c) => c.notNull())
          .addColumn("leaf_count", int, (c) => c.notNull())
          .addColumn("at_ms", int, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("snapshot_leaves")
          .addColumn("epoch", int, (c) => c.notNull())
          .addColumn("account_id", "text", (c) => c.notNull())
          .addColumn("balance", amount, (c) => c.notNull())
          .addPrimaryKeyConstraint("snapshot_leaves_pk", ["epoch", "account_id"])
          .modifyEnd(clustered)
          .execute();
        // The system accounts exist from the start, at zero; only postings change them.
        const typed = db as unknown as Kysely<LedgerDatabase>;
        await typed
          .insertInto("accounts")
          .values(SYSTEM_ACCOUNT_IDS.filter((id) => !ADDED_BY_0002.has(id)).map(systemAccountRow))
          .execute();
        await typed
          .insertInto("meta")
          .values(metaToRows(EMPTY_META).filter((row) => !META_ADDED_BY_0002.has(row.key)))
          .execute();
        // PostgreSQL hands out posting numbers from a sequence (several writers); SQLite has one
        // writer at a time and continues from max(seq).
        if (dialect === "postgres")
          await sql`create sequence ${sql.id(POSTING_SEQUENCE)}`.execute(db);
      },
    },
    "0002_market": {
      // The AMM (§4.5): its system accounts and its TWAP accumulator. Inserts only what is
      // missing, so it is the same on a new ledger and on one created before the market.
      async up(db: Kysely<unknown>): Promise<void> {
        const typed = db as unknown as Kysely<LedgerDatabase>;
        await typed
          .insertInto("accounts")
          .values(SYSTEM_ACCOUNT_IDS.map(systemAccountRow))
          .onConflict((oc) => oc.column("id").doNothing())
          .execute();
        await typed
          .insertInto("meta")
          .values(metaToRows(EMPTY_META))
          .onConflict((oc) => oc.column("key").doNothing())
          .execute();
      },
    },
    "0003_hold_expiry": {
      // The node's sweep expires holds whose time passed: open holds by expiry.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createIndex("holds_open_expiry")
          .on("holds")
          .columns(["status", "expires_at_ms"])
          .execute();
      },
    },
  };
}

/** What 0002_market added; 0001 must keep creating exactly what it created when released. */
const ADDED_BY_0002: ReadonlySet<string> = new Set([
  SYSTEM_ACCOUNTS.ammPool,
  ...Object.values(MARKET_ACCOUNTS),
]);
const META_ADDED_BY_0002: ReadonlySet<string> = new Set([
  "amm_price_cumulative",
  "amm_last_update_ms",
]);

function systemAccountRow(id: string): Insertable<AccountsTable> {
  return { id, kind: "system", balance: "0", opened_at_ms: 0, updated_at_ms: 0, last_seq: 0 };
}

/**
 * Applies pending migrations. On PostgreSQL pass the schema: Kysely's Migrator otherwise looks
 * for its tables in every schema and can mistake another ledger's migrations table for ours.
 */
export async function migrateToLatest(
  db: Kysely<LedgerDatabase>,
  dialect: Dialect,
  schema?: string,
): Promise<string[]> {
  const migrations = ledgerMigrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
