import { DpnError } from "@dpn/protocol";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import { type Dialect, migrateNodeStore } from "./migrations.ts";
import type { NodeDatabase } from "./schema.ts";

/**
 * The node's store: its tables (schema.ts) through one typed query layer (Kysely) on the embedded
 * SQLite default or a shared PostgreSQL. Whatever the node acknowledges is durable: SQLite runs in
 * WAL with synchronous=FULL, PostgreSQL with fsync and synchronous commits, and both are checked
 * at open, not assumed.
 */
export type Db = Kysely<NodeDatabase> | Transaction<NodeDatabase>;

export type NodeStoreOptions =
  | { readonly kind: "sqlite"; readonly path: string; readonly busyTimeoutMs?: number }
  | {
      readonly kind: "postgres";
      readonly connectionString: string;
      /** PostgreSQL schema of the node's tables; created if missing. Default "dpn_node". */
      readonly schema?: string;
      readonly poolSize?: number;
    };

export interface NodeStore {
  readonly dialect: Dialect;
  readonly db: Kysely<NodeDatabase>;
  /** Runs `work` in one transaction (on SQLite: the single connection, so nothing interleaves). */
  transaction<T>(work: (trx: Transaction<NodeDatabase>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export const STORE_INVALID = "NODE_STORE_INVALID";
export const STORE_NOT_DURABLE = "NODE_STORE_NOT_DURABLE";

export async function openNodeStore(options: NodeStoreOptions): Promise<NodeStore> {
  return options.kind === "sqlite" ? openSqlite(options) : openPostgres(options);
}

async function openSqlite(options: {
  readonly path: string;
  readonly busyTimeoutMs?: number;
}): Promise<NodeStore> {
  const connection = new Database(options.path);
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = FULL");
  connection.pragma("foreign_keys = ON");
  connection.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
  const journal = String(connection.pragma("journal_mode", { simple: true }));
  // 2 = FULL: COMMIT returns only once the WAL is fsynced; less could lose an acknowledged job.
  const synchronous = Number(connection.pragma("synchronous", { simple: true }));
  if (journal !== "wal" || synchronous !== 2) {
    connection.close();
    throw notDurable(
      `SQLite refused WAL with synchronous=FULL (journal ${journal}, synchronous ${synchronous})`,
    );
  }
  const db = new Kysely<NodeDatabase>({ dialect: new SqliteDialect({ database: connection }) });
  await migrateNodeStore(db as Kysely<unknown>, "sqlite");
  return {
    dialect: "sqlite",
    db,
    transaction: (work) => db.transaction().execute(work),
    close: () => db.destroy(),
  };
}

async function openPostgres(options: {
  readonly connectionString: string;
  readonly schema?: string;
  readonly poolSize?: number;
}): Promise<NodeStore> {
  const schema = options.schema ?? "dpn_node";
  if (!SCHEMA_NAME.test(schema)) {
    throw new DpnError(STORE_INVALID, `${JSON.stringify(schema)} is not a valid schema name.`, {
      hint: "Use lower-case letters, digits and underscores, starting with a letter.",
    });
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 8,
    options: `-c search_path=${schema}`,
    types: { getTypeParser: typeParser },
  });
  const db = new Kysely<NodeDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    const settings = await sql<{
      fsync: string;
      synchronous_commit: string;
    }>`select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`.execute(
      db,
    );
    const row = settings.rows[0];
    if (row?.fsync !== "on" || row.synchronous_commit === "off") {
      throw notDurable(
        `PostgreSQL runs with fsync=${row?.fsync} and synchronous_commit=${row?.synchronous_commit}`,
      );
    }
    // Several nodes starting together on one schema: one migrates, the others wait.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(hashtext($1))", [schema]);
      await client.query(`create schema if not exists "${schema}"`);
      await migrateNodeStore(db as Kysely<unknown>, "postgres", schema);
    } finally {
      await client
        .query("select pg_advisory_unlock(hashtext($1))", [schema])
        .catch(() => undefined);
      client.release();
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    dialect: "postgres",
    db,
    transaction: (work) => db.transaction().execute(work),
    close: () => db.destroy(),
  };
}

function notDurable(what: string): DpnError {
  return new DpnError(STORE_NOT_DURABLE, `${what}: acknowledged work could be lost.`, {
    hint: "Run the database with durable commits (SQLite on a local file system; PostgreSQL with fsync=on and synchronous_commit on).",
  });
}

/** int8 (times in ms, byte counts) as a number; such values stay far below 2^53. */
function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === 20) return (value: string) => Number(value);
  return pg.types.getTypeParser(oid, format === "binary" ? "binary" : "text") as (
    value: string,
  ) => unknown;
}
