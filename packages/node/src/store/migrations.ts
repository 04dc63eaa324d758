import {
  type ColumnDataType,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from "kysely";

export type Dialect = "sqlite" | "postgres";

/** Name of the node's versioned-migrations table (one row per applied migration). */
export const NODE_MIGRATION_TABLE = "node_migrations";

/**
 * Versioned migrations of the node's tables, applied in name order by Kysely's Migrator. Never
 * edit a released migration: add the next one. 0001 is the layout nodes created before migrations
 * existed (made with IF NOT EXISTS, so such a database is adopted as it is); 0002 adds what the
 * kernel needs; 0003 a device's strikes and quarantine; 0004, private reads; 0005, the measured
 * class (its reason, lanes, memory, the delivery window, a machine's rig finding); 0006, the
 * inputs of each job's assignment seed; 0007, withheld rewards and the reserve's interest.
 */
export function nodeMigrations(dialect: Dialect): Record<string, Migration> {
  const pg = dialect === "postgres";
  const ms: ColumnDataType = pg ? "bigint" : "integer";
  const real: ColumnDataType = pg ? "double precision" : "real";
  const blob: ColumnDataType = pg ? "bytea" : "blob";
  return {
    "0001_node": {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("devices")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("owner", "text", (c) => c.notNull())
          .addColumn("device_class", "text", (c) => c.notNull())
          .addColumn("declared_class", "text", (c) => c.notNull())
          .addColumn("layer", "text", (c) => c.notNull())
          .addColumn("long_tail", "integer", (c) => c.notNull())
          .addColumn("geohash", "text", (c) => c.notNull())
          .addColumn("fingerprint", "text", (c) => c.notNull())
          .addColumn("cu_per_sec", real, (c) => c.notNull())
          .addColumn("reputation", real, (c) => c.notNull())
          .addColumn("run_start_ms", ms, (c) => c.notNull())
          .addColumn("last_active_ms", ms, (c) => c.notNull())
          .addColumn("registered_ms", ms, (c) => c.notNull())
          .addColumn("ed25519", blob, (c) => c.notNull())
          .addColumn("mldsa44", blob, (c) => c.notNull())
          .addColumn("accepted", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("rejected", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("earned", "text", (c) => c.notNull().defaultTo("0"))
          .addColumn("cu_delivered", real, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createIndex("devices_fingerprint")
          .ifNotExists()
          .on("devices")
          .column("fingerprint")
          .execute();
        await db.schema
          .createTable("jobs")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("requester", "text", (c) => c.notNull())
          .addColumn("client_ref", "text", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("spec_json", "text", (c) => c.notNull())
          .addColumn("budget", "text", (c) => c.notNull())
          .addColumn("deadline_ms", ms, (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("created_ms", ms, (c) => c.notNull())
          .addColumn("cu", real, (c) => c.notNull())
          .addColumn("quote", "text", (c) => c.notNull())
          .addColumn("cu_per_dpn", real, (c) => c.notNull())
          .addColumn("fragments", "integer", (c) => c.notNull())
          .addColumn("seed", "text", (c) => c.notNull())
          .addColumn("assignment_json", "text", (c) => c.notNull())
          .addColumn("finished_ms", ms)
          .addUniqueConstraint("jobs_client_ref", ["requester", "client_ref"])
          .execute();
        await db.schema
          .createTable("tasks")
          .ifNotExists()
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("job_id", "text", (c) => c.notNull().references("jobs.id"))
          .addColumn("idx", "integer", (c) => c.notNull())
          .addColumn("item_from", "integer", (c) => c.notNull())
          .addColumn("item_to", "integer", (c) => c.notNull())
          .addColumn("cu", real, (c) => c.notNull())
          .addColumn("state", "text", (c) => c.notNull())
          .addColumn("device_id", "text")
          .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("lease_expires_ms", ms)
          .addColumn("hold_id", "text", (c) => c.notNull())
          .addColumn("hold_amount", "text", (c) => c.notNull())
          .addColumn("output_json", "text")
          .addColumn("price", "text")
          .addColumn("reward", "text")
          .addColumn("excluded_json", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("done_ms", ms)
          .execute();
        await db.schema
          .createIndex("tasks_job")
          .ifNotExists()
          .on("tasks")
          .columns(["job_id", "idx"])
          .execute();
        await db.schema
          .createIndex("tasks_state")
          .ifNotExists()
          .on("tasks")
          .column("state")
          .execute();
        await db.schema
          .createTable("artifacts")
          .ifNotExists()
          .addColumn("sha256", "text", (c) => c.primaryKey())
          .addColumn("bytes", ms, (c) => c.notNull())
          .addColumn("uploaded_by", "text", (c) => c.notNull())
          .addColumn("created_ms", ms, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("rates")
          .ifNotExists()
          .addColumn("at_ms", ms, (c) => c.notNull())
          .addColumn("json", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("oracle_rounds")
          .ifNotExists()
          .addColumn("oracle", "text", (c) => c.notNull())
          .addColumn("at_ms", ms, (c) => c.notNull())
          .addColumn("value", real)
          .addColumn("median", real)
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("json", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("oracle_rounds_at")
          .ifNotExists()
          .on("oracle_rounds")
          .columns(["oracle", "at_ms"])
          .execute();
        await db.schema.createIndex("rates_at").ifNotExists().on("rates").column("at_ms").execute();
        await db.schema
          .createTable("fl_rounds")
          .ifNotExists()
          .addColumn("job_id", "text", (c) => c.notNull())
          .addColumn("round", "integer", (c) => c.notNull())
          .addColumn("weights", "text", (c) => c.notNull())
          .addColumn("accuracy", real)
          .addColumn("loss", real)
          .addColumn("updates", "integer", (c) => c.notNull())
          .addColumn("closed_ms", ms, (c) => c.notNull())
          .addPrimaryKeyConstraint("fl_rounds_pk", ["job_id", "round"])
          .execute();
        await db.schema
          .createTable("privacy_budgets")
          .ifNotExists()
          .addColumn("device_id", "text", (c) => c.notNull())
          .addColumn("dataset", "text", (c) => c.notNull())
          .addColumn("json", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("privacy_budgets_pk", ["device_id", "dataset"])
          .execute();
        await db.schema
          .createTable("reserve_operations")
          .ifNotExists()
          .addColumn("at_ms", ms, (c) => c.notNull())
          .addColumn("action", "text", (c) => c.notNull())
          .addColumn("json", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("reserve_operations_at")
          .ifNotExists()
          .on("reserve_operations")
          .column("at_ms")
          .execute();
      },
    },
    "0002_kernel": {
      // Guarded leases (lease start, for the renewal bound), replicas named by number, coded
      // failures, kind-owned state, assignments as a bounded table, and the indexes the sweep
      // and the epoch aggregates read.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("tasks").addColumn("lease_started_ms", ms).execute();
        await db.schema
          .alterTable("tasks")
          .addColumn("replica", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable("tasks").addColumn("failure", "text").execute();
        await db.schema.alterTable("tasks").addColumn("burn_bps", "integer").execute();
        await db.schema.alterTable("tasks").addColumn("kind_data", "text").execute();
        await db.schema.alterTable("jobs").addColumn("failure", "text").execute();
        await db.schema.alterTable("jobs").addColumn("kind_data", "text").execute();
        await db.schema
          .createTable("assignments")
          .addColumn("job_id", "text", (c) => c.notNull())
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("at_ms", ms, (c) => c.notNull())
          .addColumn("tasks_json", "text", (c) => c.notNull())
          .addColumn("input_json", "text", (c) => c.notNull())
          .addColumn("picks_json", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("assignments_pk", ["job_id", "seq"])
          .execute();
        // The sweep reads expired leases: state then expiry.
        await db.schema
          .createIndex("tasks_state_expiry")
          .on("tasks")
          .columns(["state", "lease_expires_ms"])
          .execute();
        // Jobs past their deadline, and the demand aggregate over the trailing 30 days.
        await db.schema
          .createIndex("jobs_state_deadline")
          .on("jobs")
          .columns(["state", "deadline_ms"])
          .execute();
        await db.schema.createIndex("jobs_created").on("jobs").column("created_ms").execute();
      },
    },
    "0003_quarantine": {
      // A device's refused results within the quarantine window, and its quarantines
      // (@dpn/protocol quarantine.ts): kept with the device so that reconnecting or a restart of
      // the node does not lift a quarantine or forget the strikes that lead to one.
      async up(db: Kysely<unknown>): Promise<void> {
        for (const column of ["strikes", "quarantines"]) {
          await db.schema
            .alterTable("devices")
            .addColumn(column, "integer", (c) => c.notNull().defaultTo(0))
            .execute();
        }
        for (const column of ["strike_window_ms", "quarantined_until_ms"]) {
          await db.schema
            .alterTable("devices")
            .addColumn(column, ms, (c) => c.notNull().defaultTo(0))
            .execute();
        }
      },
    },
    "0004_private_reads": {
      // Reads are private (docs/adr/0015-signed-reads.md): who may read an artifact, one row per
      // account (its uploaders, the requester of a job that produced it) with whether that
      // account published it; and a requester's own jobs, newest first, for GET /v1/jobs.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("artifact_grants")
          .addColumn("sha256", "text", (c) => c.notNull())
          .addColumn("account", "text", (c) => c.notNull())
          .addColumn("public", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("created_ms", ms, (c) => c.notNull())
          .addPrimaryKeyConstraint("artifact_grants_pk", ["sha256", "account"])
          .execute();
        // Artifacts stored before reads were private stay their uploader's, and private.
        await sql`INSERT INTO artifact_grants (sha256, account, public, created_ms)
          SELECT sha256, uploaded_by, 0, created_ms FROM artifacts`.execute(db);
        await db.schema
          .createIndex("jobs_requester_created")
          .on("jobs")
          .columns(["requester", "created_ms"])
          .execute();
      },
    },
    "0005_measured_class": {
      // The class is measured (docs/adr/0017-measured-device-classes.md): why it was decided, what
      // the challenge proved, the delivery window of the sustained-rate check, and why a machine
      // was found to be a rig (kept on every row of its fingerprint, so a new key inherits it).
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .alterTable("devices")
          .addColumn("class_reason", "text", (c) => c.notNull().defaultTo(""))
          .execute();
        await db.schema.alterTable("devices").addColumn("rig_reason", "text").execute();
        for (const column of ["lanes", "memory_mib"]) {
          await db.schema
            .alterTable("devices")
            .addColumn(column, "integer", (c) => c.notNull().defaultTo(0))
            .execute();
        }
        await db.schema
          .alterTable("devices")
          .addColumn("window_start_ms", ms, (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .alterTable("devices")
          .addColumn("window_cu", real, (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    "0006_job_submissions": {
      // The inputs of a job's assignment seed (docs/adr/0018-assignment-seed.md): the signed
      // submission the requester sent, its digest and the sealed epoch the seed read, so anyone
      // can recompute the seed. Jobs accepted before have no row: their seed was the node's.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable("job_submissions")
          .addColumn("job_id", "text", (c) => c.primaryKey())
          .addColumn("envelope_json", "text", (c) => c.notNull())
          .addColumn("ed25519_public_key", "text", (c) => c.notNull())
          .addColumn("mldsa44_public_key", "text", (c) => c.notNull())
          .addColumn("digest", "text", (c) => c.notNull())
          .addColumn("epoch", ms, (c) => c.notNull())
          .addColumn("epoch_root", "text", (c) => c.notNull())
          .addColumn("epoch_sealed_ms", ms)
          .execute();
      },
    },
    "0007_supply": {
      // Supply and reserve (docs/adr/0019-supply-and-reserve-interest.md): why a verified task's
      // reward was not minted (a stable code, shown in the job view), and one row per epoch of the
      // reserve's interest, which carries the liquidity mark the next epoch measures from.
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema.alterTable("tasks").addColumn("reward_withheld", "text").execute();
        await db.schema
          .createTable("reserve_interest")
          .addColumn("at_ms", ms, (c) => c.notNull().primaryKey())
          .addColumn("json", "text", (c) => c.notNull())
          .execute();
      },
    },
    // The clearing feed reads the tasks paid in the last hour every oracle round.
    "0008_clearing": {
      async up(db) {
        await db.schema
          .createIndex("tasks_state_done")
          .ifNotExists()
          .on("tasks")
          .columns(["state", "done_ms"])
          .execute();
      },
    },
  };
}

/** Applies every migration not applied yet; returns the names applied now. */
export async function migrateNodeStore(
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
): Promise<string[]> {
  const migrations = nodeMigrations(dialect);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: NODE_MIGRATION_TABLE,
    migrationLockTableName: `${NODE_MIGRATION_TABLE}_lock`,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) throw error;
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
