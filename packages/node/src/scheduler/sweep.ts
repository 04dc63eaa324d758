import { isDpnError } from "@dpn/protocol";
import type { Core } from "../core.ts";
import { afterLeaseExpired } from "../devices/reputation.ts";
import { RETENTION_SWEEP_MS } from "../limits.ts";
import * as devices from "../store/devices.ts";
import * as jobs from "../store/jobs.ts";
import * as records from "../store/records.ts";
import * as tasks from "../store/tasks.ts";
import { returnTask } from "./requeue.ts";

/** Work one sweep does at most per kind of cleanup; the rest waits for the next sweep. */
const SWEEP_BATCH = 1_000;

/**
 * The periodic sweep (docs/protocol.md §Leases): leases past their expiry move to other devices
 * (the late device loses reputation), jobs past their deadline end `expired`, kinds do their
 * periodic work (round deadlines), holds past their expiry are expired in the ledger so no
 * requester's DPN stays held for work that will never settle, histories are pruned, the
 * epoch advances even on an idle network, and a ledger epoch is sealed when one is due.
 */
export class Sweeper {
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private running: Promise<void> | undefined;

  constructor(private readonly core: Core) {}

  /** One sweep at a time: a call while one runs returns that one. */
  sweep(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no sweep runs. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    {
      const { core } = this;
      const nowMs = core.now();
      await this.expireLeases(nowMs);
      for (const job of await jobs.overdueJobs(core.store.db, nowMs, SWEEP_BATCH)) {
        await core.jobs.end(job.id, "expired");
      }
      for (const kind of Object.values(core.kinds)) await kind.sweep?.(nowMs);
      await this.expireHolds(nowMs);
      if (nowMs - this.lastPruneMs >= RETENTION_SWEEP_MS) {
        this.lastPruneMs = nowMs;
        await records.pruneHistory(core.store.db, nowMs);
      }
      // Epochs advance with time, not only when jobs arrive: rate history, the burning
      // controller and the reserve keep acting on an idle network.
      await core.economics();
      const sealed = await core.epochs.sealIfDue();
      if (sealed !== undefined) {
        core.log("info", "ledger epoch sealed", { epoch: sealed.epoch, root: sealed.root });
      }
      core.scheduler.schedule();
    }
  }

  private async expireLeases(nowMs: number): Promise<void> {
    const { core } = this;
    const expired = await tasks.expiredLeases(core.store.db, nowMs, SWEEP_BATCH);
    for (const task of expired) {
      if (task.device_id === null) continue;
      const session = core.scheduler.sessions.get(task.device_id);
      const lease = { deviceId: task.device_id, attempt: task.attempt };
      const outcome = await returnTask(core, task, "leased", lease);
      if (outcome === "lost") continue;
      session?.leased.delete(task.id);
      const reputation = afterLeaseExpired(
        session?.reputation ?? (await core.settlement.reputationOf(task.device_id)),
      );
      if (session !== undefined) session.reputation = reputation;
      await devices.setReputation(core.store.db, task.device_id, reputation);
    }
    if (expired.length > 0) core.log("warn", "leases expired", { tasks: expired.length });
  }

  private async expireHolds(nowMs: number): Promise<void> {
    for (const hold of await this.core.ledger.expiredHolds(nowMs, SWEEP_BATCH)) {
      try {
        await this.core.ledger.expireHold({ idempotencyKey: `${hold.id}:expire`, holdId: hold.id });
        this.core.log("info", "hold expired", { holdId: hold.id });
      } catch (error) {
        // Captured or released meanwhile: closed either way.
        if (!isDpnError(error)) throw error;
      }
    }
  }
}
