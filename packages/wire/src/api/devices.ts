import { z } from "zod";
import { AccountId, DpnAmount, Sha256Hex } from "../schemas.ts";

/** One registered device as GET /v1/devices reports it. */
export const DeviceResponse = z.strictObject({
  deviceId: z.string(),
  owner: AccountId,
  /** The class the measurement decided; declaredClass is what the device claimed. */
  deviceClass: z.string(),
  declaredClass: z.string(),
  layer: z.string(),
  /** Why the class and layer are what they are: the measurement, or a reclassification. */
  classReason: z.string(),
  /** What the capability challenge proved: parallel lanes, and memory committed (MiB). */
  lanes: z.number().int(),
  memoryMiB: z.number().int(),
  longTail: z.boolean(),
  geohash: z.string(),
  /** Parallel throughput measured at registration, over all lanes. */
  cuPerSec: z.number(),
  reputation: z.number(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  earned: DpnAmount,
  /** Continuous operating days and the reward decay reached (rigs decay; others stay at 1). */
  operatingDays: z.number(),
  decay: z.number(),
  online: z.boolean(),
  /** Put on standby by the burning controller (cold storage). */
  standby: z.boolean(),
});

/** GET /v1/devices. */
export const DevicesResponse = z.strictObject({ devices: z.array(DeviceResponse) });
export type DevicesResponse = z.infer<typeof DevicesResponse>;

/**
 * POST /v1/devices/release, signed by the owner named in the devices' registrations: closes the
 * sockets of the sender's devices on one hardware fingerprint, so their slots free for new ones.
 */
export const DeviceRelease = z.strictObject({ fingerprint: Sha256Hex });
export type DeviceRelease = z.infer<typeof DeviceRelease>;

export const DeviceReleaseResponse = z.strictObject({
  fingerprint: Sha256Hex,
  /** The sender's devices whose sockets were closed (empty if none was connected). */
  released: z.array(z.string()),
  /** Devices still holding slots on the fingerprint, the sender's no longer among them. */
  connected: z.number().int(),
});
export type DeviceReleaseResponse = z.infer<typeof DeviceReleaseResponse>;
