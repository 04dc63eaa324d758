import type { Log } from "../core.ts";
import type { EconomicsSnapshot } from "../economics/rateService.ts";
import type { DeviceSession } from "./session.ts";

/**
 * §4.2 acts on devices (docs/protocol.md §Burning controller): in excess, devices holding
 * `coldStorageCu` of capacity go on standby (rigs first, then the least reputable) and get no
 * new leases; in a shortage, standby devices holding `releaseCu` come back (the most reputable
 * first). A device is never put on standby while it holds or is queued work, and one device
 * always stays active: standby must never stop the bank.
 */
export function applyCapacityDecision(
  sessions: readonly DeviceSession[],
  snapshot: EconomicsSnapshot,
  epochSeconds: number,
  log: Log,
): void {
  const { coldStorageCu, releaseCu } = snapshot.burning;
  if (coldStorageCu > 0) {
    let toStore = coldStorageCu / epochSeconds;
    const candidates = sessions
      .filter((s) => !s.standby && s.leased.size === 0 && s.queue.length === 0)
      .sort(
        (a, b) =>
          Number(b.deviceClass === "rig") - Number(a.deviceClass === "rig") ||
          a.reputation - b.reputation,
      );
    for (const session of candidates.slice(0, Math.max(0, sessions.length - 1))) {
      // One device at a time, as close to the target as devices allow: a device goes to
      // standby when at least half of it fits in what remains to be stored.
      if (toStore < session.cuPerSec / 2) continue;
      session.standby = true;
      toStore -= session.cuPerSec;
      log("info", "device put on standby (cold storage)", { deviceId: session.deviceId });
    }
  } else if (releaseCu > 0) {
    let toRelease = releaseCu / epochSeconds;
    const standby = sessions.filter((s) => s.standby).sort((a, b) => b.reputation - a.reputation);
    for (const session of standby) {
      if (toRelease <= 0) break;
      session.standby = false;
      toRelease -= session.cuPerSec;
      log("info", "device released from standby", { deviceId: session.deviceId });
    }
  }
}
