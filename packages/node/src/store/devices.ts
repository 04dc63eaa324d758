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
  | "window_start_ms"
  | "window_cu"
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
      window_start_ms: 0,
      window_cu: 0,
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
        class_reason: eb.ref("excluded.class_reason"),
        rig_reason: eb.ref("excluded.rig_reason"),
        lanes: eb.ref("excluded.lanes"),
        memory_mib: eb.ref("excluded.memory_mib"),
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

/**
 * What the other keys registered on `fingerprint` leave to a new one (docs/adr/0017): the
 * worst reputation, the earliest run still live at `nowMs` (the rig decay's clock), and why the
 * machine was found to be a rig. Re-keying therefore resets none of them; a made-up fingerprint
 * does, which is why the fingerprint is a hint and the measurement the bound.
 */
export interface FingerprintHistory {
  readonly reputation?: number;
  readonly runStartMs?: number;
  readonly lastActiveMs?: number;
  readonly rigReason?: string;
}

export async function fingerprintHistory(
  db: Db,
  fingerprint: string,
  exceptId: string,
  liveSinceMs: number,
): Promise<FingerprintHistory> {
  const rows = await db
    .selectFrom("devices")
    .select(["reputation", "run_start_ms", "last_active_ms", "rig_reason"])
    .where("fingerprint", "=", fingerprint)
    .where("id", "!=", exceptId)
    .execute();
  if (rows.length === 0) return {};
  const live = rows.filter((row) => Number(row.last_active_ms) >= liveSinceMs);
  const rig = rows.find((row) => row.rig_reason !== null);
  return {
    reputation: Math.min(...rows.map((row) => row.reputation)),
    ...(live.length === 0
      ? {}
      : {
          runStartMs: Math.min(...live.map((row) => Number(row.run_start_ms))),
          lastActiveMs: Math.max(...live.map((row) => Number(row.last_active_ms))),
        }),
    ...(rig?.rig_reason == null ? {} : { rigReason: rig.rig_reason }),
  };
}

/** Records a reclassification (the sustained-rate check found a rig). */
export async function reclassify(
  db: Db,
  id: string,
  change: { readonly deviceClass: string; readonly layer: string; readonly reason: string },
): Promise<void> {
  await db
    .updateTable("devices")
    .set({
      device_class: change.deviceClass,
      layer: change.layer,
      long_tail: 0,
      class_reason: change.reason,
      rig_reason: change.reason,
    })
    .where("id", "=", id)
    .execute();
}

/** The sustained-rate check's window after a delivery. */
export async function setDeliveryWindow(
  db: Db,
  id: string,
  window: { readonly startMs: number; readonly cu: number },
): Promise<void> {
  await db
    .updateTable("devices")
    .set({ window_start_ms: window.startMs, window_cu: window.cu })
    .where("id", "=", id)
    .execute();
}
