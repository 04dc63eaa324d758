import type { OracleResponse, ReserveBuybackView, ReserveResponse } from "@dpn/wire";
import { sql } from "kysely";
import { MAX_ASSIGNMENTS_PER_JOB, ORACLE_RETENTION_MS, RATE_RETENTION_MS } from "../limits.ts";
import type { Db } from "./open.ts";

/**
 * The node's records: uploaded artifacts, rate epochs, oracle rounds, the reserve's decisions, its
 * interest and assignments. Each history is bounded (limits.ts) by prune(), which the sweep runs.
 */

/**
 * Records a stored artifact (its first uploader) and grants `uploadedBy` the reading of it,
 * published to anyone when `published` (artifactAccess.ts).
 */
export async function recordArtifact(
  db: Db,
  sha256: string,
  bytes: number,
  uploadedBy: string,
  nowMs: number,
  published = false,
): Promise<void> {
  await db
    .insertInto("artifacts")
    .values({ sha256, bytes, uploaded_by: uploadedBy, created_ms: nowMs })
    .onConflict((oc) => oc.column("sha256").doNothing())
    .execute();
  await grantArtifact(db, sha256, uploadedBy, nowMs, published);
}

/**
 * Lets `account` read an artifact (its uploader, or the requester of the job that produced it);
 * `published` opens it to anyone. Publishing cannot be undone by a later private upload: copies
 * may have been read meanwhile.
 */
export async function grantArtifact(
  db: Db,
  sha256: string,
  account: string,
  nowMs: number,
  published = false,
): Promise<void> {
  await db
    .insertInto("artifact_grants")
    .values({ sha256, account, public: published ? 1 : 0, created_ms: nowMs })
    .onConflict((oc) =>
      oc.columns(["sha256", "account"]).doUpdateSet({
        public: sql<number>`CASE WHEN excluded.public = 1 THEN 1 ELSE artifact_grants.public END`,
      }),
    )
    .execute();
}

/** Whether the artifact is published, and whether `account` (if any) holds a grant to it. */
export async function artifactGrant(
  db: Db,
  sha256: string,
  account: string | undefined,
): Promise<{ readonly published: boolean; readonly granted: boolean }> {
  const rows = await db
    .selectFrom("artifact_grants")
    .select(["account", "public"])
    .where("sha256", "=", sha256)
    .where((eb) =>
      account === undefined
        ? eb("public", "=", 1)
        : eb.or([eb("public", "=", 1), eb("account", "=", account)]),
    )
    .limit(2)
    .execute();
  return {
    published: rows.some((r) => r.public === 1),
    granted: account !== undefined && rows.some((r) => r.account === account),
  };
}

export async function recordRate(db: Db, atMs: number, json: string): Promise<void> {
  await db.insertInto("rates").values({ at_ms: atMs, json }).execute();
}

export function rates(db: Db, limit: number): Promise<Array<{ at_ms: number; json: string }>> {
  return db
    .selectFrom("rates")
    .select(["at_ms", "json"])
    .orderBy("at_ms", "desc")
    .limit(limit)
    .execute();
}

export interface OracleRoundRecord {
  readonly oracle: string;
  readonly atMs: number;
  readonly value: number | null;
  readonly median: number | null;
  readonly status: string;
}

/** Records a round; the whole record (feeds, rejections) is kept as JSON too. */
export async function recordOracleRound(db: Db, round: OracleRoundRecord): Promise<void> {
  await db
    .insertInto("oracle_rounds")
    .values({
      oracle: round.oracle,
      at_ms: round.atMs,
      value: round.value,
      median: round.median,
      status: round.status,
      json: JSON.stringify(round),
    })
    .execute();
}

/** Raw medians of the rounds within the window before the newest: what the 7-day fallback reads. */
export async function oracleHistory(
  db: Db,
  oracle: string,
  windowMs: number,
): Promise<Array<{ atMs: number; median: number }>> {
  const newest = await db
    .selectFrom("oracle_rounds")
    .select((eb) => eb.fn.max("at_ms").as("at"))
    .where("oracle", "=", oracle)
    .executeTakeFirst();
  const since = Number(newest?.at ?? 0) - windowMs;
  const rows = await db
    .selectFrom("oracle_rounds")
    .select(["at_ms", "median"])
    .where("oracle", "=", oracle)
    .where("median", "is not", null)
    .where("at_ms", ">=", since)
    .orderBy("at_ms")
    .execute();
  return rows.map((r) => ({ atMs: r.at_ms, median: r.median as number }));
}

/** The last value a round published (median or fallback), and when: what a failed round keeps. */
export async function lastPublished(
  db: Db,
  oracle: string,
): Promise<{ value: number; atMs: number } | undefined> {
  const row = await db
    .selectFrom("oracle_rounds")
    .select(["value", "at_ms"])
    .where("oracle", "=", oracle)
    .where("status", "in", ["median", "fallback"])
    .where("value", "is not", null)
    .orderBy("at_ms", "desc")
    .limit(1)
    .executeTakeFirst();
  return row === undefined || row.value === null
    ? undefined
    : { value: row.value, atMs: row.at_ms };
}

/**
 * The JSON of recorded rounds and reserve decisions is written by this module from the wire's
 * types, so it is read back as them; the API's tests check each answer against the schema.
 */
export async function oracleRounds(
  db: Db,
  oracle: string,
  limit: number,
): Promise<OracleResponse["rounds"]> {
  const rows = await db
    .selectFrom("oracle_rounds")
    .select("json")
    .where("oracle", "=", oracle)
    .orderBy("at_ms", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => JSON.parse(r.json) as OracleResponse["rounds"][number]);
}

export async function recordReserveOperation(
  db: Db,
  atMs: number,
  action: string,
  json: string,
): Promise<void> {
  await db.insertInto("reserve_operations").values({ at_ms: atMs, action, json }).execute();
}

export async function reserveOperations(
  db: Db,
  limit: number,
): Promise<ReserveResponse["operations"]> {
  const rows = await db
    .selectFrom("reserve_operations")
    .select("json")
    .orderBy("at_ms", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => JSON.parse(r.json) as ReserveResponse["operations"][number]);
}

/** One epoch of the reserve's interest (economics/buyback.ts); an epoch is recorded once. */
export async function recordReserveInterest(db: Db, view: ReserveBuybackView): Promise<void> {
  await db
    .insertInto("reserve_interest")
    .values({ at_ms: view.atMs, json: JSON.stringify(view) })
    .onConflict((oc) => oc.column("at_ms").doNothing())
    .execute();
}

/** The reserve's interest epochs, newest first. */
export async function reserveInterest(db: Db, limit: number): Promise<ReserveBuybackView[]> {
  const rows = await db
    .selectFrom("reserve_interest")
    .select("json")
    .orderBy("at_ms", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => JSON.parse(r.json) as ReserveBuybackView);
}

export interface AssignmentRecord {
  readonly atMs: number;
  readonly tasks: readonly string[];
  readonly input: unknown;
  readonly picks: readonly string[];
}

/** Records one assignment of a job's tasks; false once the job has MAX_ASSIGNMENTS_PER_JOB. */
export async function recordAssignment(
  db: Db,
  jobId: string,
  record: AssignmentRecord,
): Promise<boolean> {
  const last = await db
    .selectFrom("assignments")
    .select((eb) => eb.fn.max("seq").as("seq"))
    .where("job_id", "=", jobId)
    .executeTakeFirst();
  const seq = Number(last?.seq ?? 0) + 1;
  if (seq > MAX_ASSIGNMENTS_PER_JOB) return false;
  await db
    .insertInto("assignments")
    .values({
      job_id: jobId,
      seq,
      at_ms: record.atMs,
      tasks_json: JSON.stringify(record.tasks),
      input_json: JSON.stringify(record.input),
      picks_json: JSON.stringify(record.picks),
    })
    .execute();
  return true;
}

export async function assignments(db: Db, jobId: string): Promise<AssignmentRecord[]> {
  const rows = await db
    .selectFrom("assignments")
    .selectAll()
    .where("job_id", "=", jobId)
    .orderBy("seq")
    .execute();
  return rows.map((r) => ({
    atMs: r.at_ms,
    tasks: JSON.parse(r.tasks_json) as string[],
    input: JSON.parse(r.input_json) as unknown,
    picks: JSON.parse(r.picks_json) as string[],
  }));
}

/** Deletes history past its retention window (limits.ts). */
export async function pruneHistory(db: Db, nowMs: number): Promise<void> {
  await db
    .deleteFrom("rates")
    .where("at_ms", "<", nowMs - RATE_RETENTION_MS)
    .execute();
  // One row per epoch, like the rates. The mark the next epoch needs is held in memory once
  // loaded; only a node down for longer than the retention loses it, and then counts no interest
  // for its first epoch back.
  await db
    .deleteFrom("reserve_interest")
    .where("at_ms", "<", nowMs - RATE_RETENTION_MS)
    .execute();
  await db
    .deleteFrom("oracle_rounds")
    .where("at_ms", "<", nowMs - ORACLE_RETENTION_MS)
    .execute();
}
