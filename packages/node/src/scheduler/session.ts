import type { DeviceClass, Layer } from "@dpn/protocol";
import type { Lease, TaskTypeName, Verdict } from "@dpn/wire";

/**
 * One connected device as the scheduler sees it (docs/protocol.md §Devices): what registration
 * measured, the credit the device granted (device.ready), the tasks queued for it and the leases
 * it holds. A session is one connection: a device that reconnects gets a new session, and only
 * the session in force may be disconnected (a late close of an old socket changes nothing).
 */
export interface DeviceSession {
  /** Unique per connection. */
  readonly token: number;
  readonly deviceId: string;
  readonly owner: string;
  /** Measured at registration; changed once if the sustained-rate check finds a rig. */
  deviceClass: DeviceClass;
  layer: Layer;
  longTail: boolean;
  readonly geohash: string;
  readonly cuPerSec: number;
  readonly taskTypes: readonly TaskTypeName[];
  /** "dataset:partition" the device holds (its data never leaves it). */
  readonly datasets: readonly string[];
  /** Kind → what the device has for it (a renderer's version, say). */
  readonly capabilities: Readonly<Record<string, unknown>>;
  reputation: number;
  runStartMs: number;
  lastActiveMs: number;
  /** Leases the device asked for and has not been sent. */
  credit: number;
  /** Put in cold storage by the burning controller (§4.2): it gets no new leases. */
  standby: boolean;
  /**
   * Until when the device is quarantined for refused results (@dpn/protocol quarantine.ts): no
   * leases, device.ready refused. Set when the device connects and when a quarantine starts.
   */
  quarantinedUntilMs?: number;
  /** Task ids assigned to this device and not yet leased, in order. */
  readonly queue: string[];
  /** Task id → the lease this device holds on it. */
  readonly leased: Map<string, HeldLease>;
  send(kind: "node.leases", body: { leases: Lease[] }): void;
  send(kind: "node.verdicts", body: { verdicts: Verdict[] }): void;
  send(
    kind: "node.reclassified",
    body: { deviceClass: DeviceClass; layer: Layer; reason: string },
  ): void;
  /** Ends the connection (a newer session of the same device replaced it). */
  close(reason: string): void;
}

/** A lease as the scheduler granted it: its attempt (the guard of every later change) and start. */
export interface HeldLease {
  readonly attempt: number;
  readonly startedMs: number;
}

let nextToken = 1;

/** A fresh connection token. */
export function sessionToken(): number {
  return nextToken++;
}
