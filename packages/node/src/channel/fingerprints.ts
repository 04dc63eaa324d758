import { DpnError } from "@dpn/protocol";

/**
 * The per-hardware cap (docs/protocol.md §Devices, §Sybil): at most `cap` device identities on
 * one fingerprint are connected or registering at once. It counts sockets, not rows: an identity
 * costs nothing, so counting every identity ever registered let anyone who declared a machine's
 * fingerprint eight times lock it out for good, and refused a worker restarted nine times without
 * its keys. The count and the admission are one synchronous step (no await between them), so
 * concurrent registrations cannot all pass a check made before any of them was written.
 */
export class FingerprintSlots {
  /** fingerprint → device id → its open sockets (a device may reconnect before its old socket closes). */
  private readonly held = new Map<string, Map<string, Holder>>();

  constructor(private readonly cap: number) {}

  /**
   * Takes a slot for `deviceId` on `fingerprint`, or throws DEVICE_TOO_MANY_ON_HARDWARE. The
   * returned function gives it back (call it once, when the socket closes).
   */
  reserve(fingerprint: string, deviceId: string, owner: string, close: () => void): () => void {
    let devices = this.held.get(fingerprint);
    const holder = devices?.get(deviceId);
    if (holder === undefined && (devices?.size ?? 0) >= this.cap) {
      throw new DpnError(
        "DEVICE_TOO_MANY_ON_HARDWARE",
        `${this.cap} devices are already connected on this hardware.`,
        {
          hint: "Run one agent per machine with more slots; stop another agent, or release its devices as their owner (POST /v1/devices/release).",
        },
      );
    }
    if (devices === undefined) {
      devices = new Map();
      this.held.set(fingerprint, devices);
    }
    const entry = holder ?? { owner, closers: new Set<() => void>() };
    entry.owner = owner;
    entry.closers.add(close);
    devices.set(deviceId, entry);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.closers.delete(close);
      if (entry.closers.size > 0) return;
      devices.delete(deviceId);
      if (devices.size === 0) this.held.delete(fingerprint);
    };
  }

  /** Devices holding slots on `fingerprint` now. */
  count(fingerprint: string): number {
    return this.held.get(fingerprint)?.size ?? 0;
  }

  /**
   * Closes the sockets of `owner`'s devices on `fingerprint` (their slots free as the sockets
   * close); returns their ids. Devices of other owners are untouched.
   */
  releaseOwned(fingerprint: string, owner: string): string[] {
    const released: string[] = [];
    for (const [deviceId, holder] of this.held.get(fingerprint) ?? []) {
      if (holder.owner !== owner) continue;
      released.push(deviceId);
      for (const close of [...holder.closers]) close();
    }
    return released;
  }
}

interface Holder {
  owner: string;
  readonly closers: Set<() => void>;
}
