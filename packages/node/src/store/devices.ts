import type { StrikeRecord } from "@dpn/protocol";
import type { Db } from "./open.ts";
import type { DeviceRow, DevicesTable } from "./schema.ts";

/** Registered devices: what registration measured, and their record of work. */

export type NewDevice = Omit<
  DevicesTable,
  | "accepted"
  | "rejected"
  | "earned"
  | "cu_delivered"
  | "strikes"
  | "strike_window_ms"
  | "quarantines"
  | "quarantined_until_ms"
>;

/** Registers a device or updates what a new registration measured (its record stays). */
export async function upsertDevice(db: Db, row: NewDevice): Promise<void> {
  await db
    .insertInto("devices")
    .values({
      ...row,
      accepted: 0,
      rejected: 0,
      earned: "0",
      cu_delivered: 0,
      strikes: 0,
      strike_window_ms: 0,
      quarantines: 0,
      quarantined_until_ms: 0,
    })
    .onConflict((oc) =>
      oc.column("id").doUpdateSet((eb) => ({
        owner: eb.ref("excluded.owner"),
        device_class: eb.ref("excluded.device_class"),
        declared_class: eb.ref("excluded.declared_class"),
        layer: eb.ref("excluded.layer"),
        long_tail: eb.ref("excluded.long_tail"),
        geohash: eb.ref("excluded.geohash"),
        fingerprint: eb.ref("excluded.fingerprint"),
        cu_per_sec: eb.ref("excluded.cu_per_sec"),
        last_active_ms: eb.ref("excluded.last_active_ms"),
      })),
    )
    .execute();
}

export function device(db: Db, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();
}

export function devices(db: Db, limit = 10_000): Promise<DeviceRow[]> {
  return db.selectFrom("devices").selectAll().orderBy("id").limit(limit).execute();
}

/** One decided task of the device's: its counters, reputation and run move together. */
export async function recordOutcome(
  db: Db,
  outcome: {
    readonly deviceId: string;
    readonly accepted: boolean;
    readonly reputation: number;
    readonly rewardUnits: bigint;
    readonly cu: number;
    readonly nowMs: number;
    readonly runStartMs: number;
  },
): Promise<void> {
  const row = await device(db, outcome.deviceId);
  if (row === undefined) return;
  await db
    .updateTable("devices")
    .set((eb) => ({
      accepted: eb("accepted", "+", outcome.accepted ? 1 : 0),
      rejected: eb("rejected", "+", outcome.accepted ? 0 : 1),
      reputation: outcome.reputation,
      earned: (BigInt(row.earned) + outcome.rewardUnits).toString(),
      cu_delivered: eb("cu_delivered", "+", outcome.cu),
      last_active_ms: outcome.nowMs,
      run_start_ms: outcome.runStartMs,
    }))
    .where("id", "=", outcome.deviceId)
    .execute();
}

export async function setReputation(db: Db, id: string, reputation: number): Promise<void> {
  await db.updateTable("devices").set({ reputation }).where("id", "=", id).execute();
}

/** A device's refusals and quarantines (NO_STRIKES for a device the node does not know). */
export function strikeRecord(row: DeviceRow | undefined): StrikeRecord {
  return {
    strikes: row?.strikes ?? 0,
    windowStartMs: row?.strike_window_ms ?? 0,
    quarantines: row?.quarantines ?? 0,
    quarantinedUntilMs: row?.quarantined_until_ms ?? 0,
  };
}

export async function setStrikeRecord(db: Db, id: string, record: StrikeRecord): Promise<void> {
  await db
    .updateTable("devices")
    .set({
      strikes: record.strikes,
      strike_window_ms: record.windowStartMs,
      quarantines: record.quarantines,
      quarantined_until_ms: record.quarantinedUntilMs,
    })
    .where("id", "=", id)
    .execute();
}

/**
 * The latest quarantine end among the devices registered on `fingerprint`: a fresh identity on
 * the same hardware inherits it (0 if none).
 */
export async function quarantinedUntilOnFingerprint(db: Db, fingerprint: string): Promise<number> {
  const row = await db
    .selectFrom("devices")
    .select((eb) => eb.fn.max("quarantined_until_ms").as("until"))
    .where("fingerprint", "=", fingerprint)
    .executeTakeFirst();
  return Number(row?.until ?? 0);
}

/** Ids of the devices registered on `fingerprint`. */
export async function devicesOnFingerprint(db: Db, fingerprint: string): Promise<string[]> {
  const rows = await db
    .selectFrom("devices")
    .select("id")
    .where("fingerprint", "=", fingerprint)
    .execute();
  return rows.map((row) => row.id);
}
