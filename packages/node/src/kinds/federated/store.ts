import { MAX_MODEL_VERSIONS_KEPT } from "../../limits.ts";
import type { Db } from "../../store/open.ts";
import type { FlRoundRow } from "../../store/schema.ts";

/**
 * The tables of federated jobs: each global model version of a job (round 0 is the initial
 * model) and each device's privacy budget per data set.
 */

/** Records a version; a version already recorded stays as it was (a retried close). */
export async function recordRound(db: Db, row: FlRoundRow): Promise<void> {
  await db
    .insertInto("fl_rounds")
    .values(row)
    .onConflict((oc) => oc.columns(["job_id", "round"]).doNothing())
    .execute();
  // Old versions keep their accuracy for the history; their weights go (limits.ts).
  await db
    .updateTable("fl_rounds")
    .set({ weights: "" })
    .where("job_id", "=", row.job_id)
    .where("round", "<=", row.round - MAX_MODEL_VERSIONS_KEPT)
    .where("weights", "!=", "")
    .execute();
}

export function rounds(db: Db, jobId: string): Promise<FlRoundRow[]> {
  return db
    .selectFrom("fl_rounds")
    .selectAll()
    .where("job_id", "=", jobId)
    .orderBy("round")
    .execute();
}

export function lastRound(db: Db, jobId: string): Promise<FlRoundRow | undefined> {
  return db
    .selectFrom("fl_rounds")
    .selectAll()
    .where("job_id", "=", jobId)
    .orderBy("round", "desc")
    .limit(1)
    .executeTakeFirst();
}

export function round(db: Db, jobId: string, version: number): Promise<FlRoundRow | undefined> {
  return db
    .selectFrom("fl_rounds")
    .selectAll()
    .where("job_id", "=", jobId)
    .where("round", "=", version)
    .executeTakeFirst();
}

export async function deleteRounds(db: Db, jobId: string): Promise<void> {
  await db.deleteFrom("fl_rounds").where("job_id", "=", jobId).execute();
}

/** A device's privacy budget on a data set, as stored JSON; undefined: nothing released yet. */
export async function privacyBudget(
  db: Db,
  deviceId: string,
  dataset: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom("privacy_budgets")
    .select("json")
    .where("device_id", "=", deviceId)
    .where("dataset", "=", dataset)
    .executeTakeFirst();
  return row?.json;
}

export async function setPrivacyBudget(
  db: Db,
  deviceId: string,
  dataset: string,
  json: string,
): Promise<void> {
  await db
    .insertInto("privacy_budgets")
    .values({ device_id: deviceId, dataset, json })
    .onConflict((oc) => oc.columns(["device_id", "dataset"]).doUpdateSet({ json }))
    .execute();
}
