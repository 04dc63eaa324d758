import type { Db } from "./open.ts";
import type { DeviceRow, DevicesTable } from "./schema.ts";

/** Registered devices: what registration measured, and their record of work. */

export type NewDevice = Omit<DevicesTable, "accepted" | "rejected" | "earned" | "cu_delivered">;

/** Registers a device or updates what a new registration measured (its record stays). */
export async function upsertDevice(db: Db, row: NewDevice): Promise<void> {
  await db
    .insertInto("devices")
    .values({ ...row, accepted: 0, rejected: 0, earned: "0", cu_delivered: 0 })
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
