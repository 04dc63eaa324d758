import type { Core } from "../core.ts";
import { kindOf } from "../kinds/registry.ts";
import { MAX_LEASES_CHECKED } from "../limits.ts";
import * as jobs from "../store/jobs.ts";
import * as tasks from "../store/tasks.ts";

/**
 * Whether one of the device's current leases names the artifact: a device may fetch the inputs of
 * the tasks it holds, and nothing else that is private (artifactAccess.ts). The lease is rebuilt
 * by its kind (`lease` only reads) exactly as dispatch sent it, so nothing about leases has to be
 * remembered or trusted from the device.
 */
export async function leaseNeeds(core: Core, deviceId: string, sha256: string): Promise<boolean> {
  const leased = await tasks.currentLeasesOf(
    core.store.db,
    deviceId,
    core.now(),
    MAX_LEASES_CHECKED,
  );
  for (const task of leased) {
    const row = await jobs.job(core.store.db, task.job_id);
    if (row === undefined || row.state !== "open") continue;
    const kind = kindOf(core.kinds, row.type);
    const lease = await kind.lease(task, { row, spec: core.specs.of(row) });
    if (Object.values(lease.artifacts).includes(sha256)) return true;
  }
  return false;
}
