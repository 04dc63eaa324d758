import type { Core } from "../core.ts";
import * as jobs from "../store/jobs.ts";
import * as tasks from "../store/tasks.ts";
import { transitionJob, transitionTask } from "../store/transitions.ts";
import { placeHolds, releaseHolds } from "./funding.ts";

/**
 * After a restart, before any device connects (docs/protocol.md §Recovery): jobs whose holds were
 * not all placed are funded again (idempotently) and opened; leases are void and results that
 * were being verified are lost with their connection, so those tasks go back to pending; results
 * accepted but not paid are paid and waiting replicas decided (settlement); kinds resume their
 * own work; and holds of tasks that ended unpaid just before the crash are released.
 */
export async function recover(core: Core): Promise<void> {
  const { store } = core;
  for (const job of await jobs.jobsInState(store.db, "funding")) {
    await placeHolds(core.ledger, job, await tasks.tasksOf(store.db, job.id));
    await transitionJob(store.db, job.id, ["funding"], "open");
  }
  for (const state of ["leased", "verifying"] as const) {
    for (const task of await tasks.tasksInState(store.db, state)) {
      await transitionTask(store.db, task.id, state, "pending", {
        device_id: null,
        lease_expires_ms: null,
        lease_started_ms: null,
      });
    }
  }
  await core.settlement.recover();
  for (const kind of Object.values(core.kinds)) await kind.recover?.();
  for (const job of await jobs.jobsInState(store.db, "open")) {
    const ended = (await tasks.tasksOf(store.db, job.id)).filter(
      (t) => t.state === "cancelled" || t.state === "failed" || t.state === "outvoted",
    );
    await releaseHolds(core.ledger, ended);
  }
}
