import { type DeviceClass, type DeviceClassParams, sustainedDelivery } from "@dpn/protocol";
import * as devices from "../store/devices.ts";
import type { Db } from "../store/open.ts";

/**
 * The sustained-rate check (docs/protocol.md §Devices): every accepted task's CU goes into the
 * device's delivery window; a device that delivers more in a window than its measurement and its
 * class allow held its measurement back (or is many machines behind one key), and is a rig from
 * then on, under this key and every key of its fingerprint (ADR 0017). Runs in the transaction
 * that records the task's outcome, so the window and the outcome move together.
 */
export interface Reclassification {
  readonly deviceClass: "rig";
  readonly layer: "heavy";
  readonly longTail: false;
  readonly reason: string;
}

export async function recordDelivery(
  trx: Db,
  deviceId: string,
  cu: number,
  nowMs: number,
  params: DeviceClassParams,
): Promise<Reclassification | undefined> {
  const row = await devices.device(trx, deviceId);
  if (row === undefined) return undefined;
  const verdict = sustainedDelivery(
    {
      deviceClass: row.device_class as DeviceClass,
      measuredCuPerSec: row.cu_per_sec,
      window:
        row.window_start_ms === 0
          ? undefined
          : { startMs: Number(row.window_start_ms), cu: row.window_cu },
      cu,
      nowMs,
    },
    params,
  );
  await devices.setDeliveryWindow(trx, deviceId, verdict.window);
  if (verdict.kind === "within") return undefined;
  const change = {
    deviceClass: "rig",
    layer: "heavy",
    longTail: false,
    reason: verdict.reason,
  } as const;
  await devices.reclassify(trx, deviceId, change);
  return change;
}
