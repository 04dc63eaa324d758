import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PrivacyAccountant } from "@dpn/fl";

/**
 * This device's own account of what it released about each data set it holds (local DP,
 * docs/protocol.md §Federated learning jobs). The node keeps a count too; the device's own is
 * what lets it refuse a release on its side. Saved per device identity, so a restart cannot reset
 * what it has released.
 */
export const accountant = new PrivacyAccountant();
const loaded = new Set<string>();

function accountFile(stateDir: string, deviceId: string): string {
  return join(stateDir, `privacy-${deviceId}.json`);
}

/** Loads the device's saved budgets once. */
export function loadAccount(stateDir: string | undefined, deviceId: string): void {
  if (stateDir === undefined || loaded.has(deviceId)) return;
  loaded.add(deviceId);
  let saved: Array<Record<string, string | number>>;
  try {
    saved = JSON.parse(readFileSync(accountFile(stateDir, deviceId), "utf8")) as typeof saved;
  } catch {
    return; // nothing released yet
  }
  for (const b of saved) {
    accountant.restore({
      deviceId: String(b.deviceId),
      datasetId: String(b.datasetId),
      totalEpsilonUnits: BigInt(b.totalEpsilonUnits as string),
      totalDeltaUnits: BigInt(b.totalDeltaUnits as string),
      spentEpsilonUnits: BigInt(b.spentEpsilonUnits as string),
      spentDeltaUnits: BigInt(b.spentDeltaUnits as string),
      releases: Number(b.releases),
    });
  }
}

/** Saves the device's budgets (write then rename: a crash leaves the old or the new file). */
export function saveAccount(stateDir: string | undefined, deviceId: string): void {
  if (stateDir === undefined) return;
  const mine = accountant
    .budgets()
    .filter((b) => b.deviceId === deviceId)
    .map((b) => ({
      ...b,
      totalEpsilonUnits: b.totalEpsilonUnits.toString(),
      totalDeltaUnits: b.totalDeltaUnits.toString(),
      spentEpsilonUnits: b.spentEpsilonUnits.toString(),
      spentDeltaUnits: b.spentDeltaUnits.toString(),
    }));
  const file = accountFile(stateDir, deviceId);
  writeFileSync(`${file}.tmp`, JSON.stringify(mine));
  renameSync(`${file}.tmp`, file);
}
