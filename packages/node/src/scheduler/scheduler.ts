import { DpnError } from "@dpn/protocol";
import type { TaskTypeName } from "@dpn/wire";
import type { Core } from "../core.ts";
import { MAX_CREDIT, MAX_LEASE_RENEWALS } from "../limits.ts";
import * as tasks from "../store/tasks.ts";
import { assignPending, offers, type Queues } from "./assign.ts";
import { dispatchTo } from "./dispatch.ts";
import { returnTask } from "./requeue.ts";
import type { DeviceSession } from "./session.ts";

/**
 * The scheduler (docs/protocol.md §Assignment, §Leases): the devices online, the tasks queued for
 * each and the leases they hold. Scheduling is one loop: a request while a pass runs marks it
 * dirty and the pass runs again, so assignment and dispatch never call each other re-entrantly
 * and never run twice at once.
 */
export class Scheduler implements Queues {
  readonly sessions = new Map<string, DeviceSession>();
  readonly queuedOn = new Map<string, DeviceSession>();
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

  constructor(private readonly core: Core) {}

  /** Online devices that could take work of this type (those in cold storage included). */
  eligibleCount(type: TaskTypeName): number {
    let n = 0;
    for (const session of this.sessions.values()) if (offers(session, type)) n += 1;
    return n;
  }

  /**
   * A device registered on a connection. A previous session of the same device is replaced:
   * its leases move elsewhere and its connection is closed; that connection's late close event
   * then finds a session that is no longer in force and changes nothing.
   */
  async connect(session: DeviceSession): Promise<void> {
    const previous = this.sessions.get(session.deviceId);
    if (previous !== undefined && previous !== session) {
      await this.disconnect(previous);
      previous.close("replaced by a newer connection of the same device");
    }
    this.sessions.set(session.deviceId, session);
    this.schedule();
  }

  /** A session ended: its leases go back to pending and its queue to other devices. */
  async disconnect(session: DeviceSession): Promise<void> {
    if (this.sessions.get(session.deviceId) !== session) return;
    this.sessions.delete(session.deviceId);
    for (const taskId of session.queue.splice(0)) this.queuedOn.delete(taskId);
    const held = [...session.leased.entries()];
    session.leased.clear();
    for (const [taskId, lease] of held) {
      const task = await tasks.task(this.core.store.db, taskId);
      if (task?.state === "leased") {
        await returnTask(this.core, task, "leased", {
          deviceId: session.deviceId,
          attempt: lease.attempt,
        });
      }
    }
    this.core.log("info", "device disconnected", {
      deviceId: session.deviceId,
      moved: held.length,
    });
    this.schedule();
  }

  /**
   * A quarantine starts: the device's credit and the work queued for it go (to be assigned to
   * others); the leases it holds run their course.
   */
  quarantine(session: DeviceSession, untilMs: number): void {
    session.quarantinedUntilMs = untilMs;
    session.credit = 0;
    for (const taskId of session.queue.splice(0)) this.queuedOn.delete(taskId);
    this.schedule();
  }

  /**
   * The device's delivered work did not fit its measurement (devices/sustained.ts): it is a rig
   * from now on. The work queued for it goes back to be assigned again, since a rig may not
   * take what was queued for a PC (high-value tasks); the leases it holds run their course, and
   * the device hears why.
   */
  reclassify(
    session: DeviceSession,
    change: Pick<DeviceSession, "deviceClass" | "layer" | "longTail"> & { reason: string },
  ): void {
    session.deviceClass = change.deviceClass;
    session.layer = change.layer;
    session.longTail = change.longTail;
    for (const taskId of session.queue.splice(0)) this.queuedOn.delete(taskId);
    session.send("node.reclassified", {
      deviceClass: change.deviceClass,
      layer: change.layer,
      reason: change.reason,
    });
    this.schedule();
  }

  /** device.ready adds credit: the device may hold that many more leases (flow control). */
  ready(session: DeviceSession, slots: number): void {
    const untilMs = session.quarantinedUntilMs ?? 0;
    if (this.core.now() < untilMs) {
      throw new DpnError(
        "DEVICE_QUARANTINED",
        "This device is quarantined: too many of its results were refused.",
        {
          hint: "Fix what makes its results wrong; ask for work again after the quarantine ends.",
          details: { untilMs },
        },
      );
    }
    session.credit = Math.min(session.credit + slots, MAX_CREDIT);
    this.schedule();
  }

  /**
   * Renews the leases a device is still working on to now + leaseMs, but never beyond
   * leaseMs × (1 + MAX_LEASE_RENEWALS) after the lease was granted.
   */
  async heartbeat(session: DeviceSession, activeTaskIds: readonly string[]): Promise<void> {
    const nowMs = this.core.now();
    const { leaseMs } = this.core;
    await this.core.store.transaction(async (trx) => {
      for (const taskId of new Set(activeTaskIds)) {
        const lease = session.leased.get(taskId);
        if (lease === undefined) continue;
        const until = Math.min(
          nowMs + leaseMs,
          lease.startedMs + leaseMs * (1 + MAX_LEASE_RENEWALS),
        );
        await trx
          .updateTable("tasks")
          .set({ lease_expires_ms: until })
          .where("id", "=", taskId)
          .where("state", "=", "leased")
          .where("device_id", "=", session.deviceId)
          .where("attempt", "=", lease.attempt)
          .execute();
      }
    });
  }

  /** Tasks that ended: no device may still hold or be queued for them. */
  forget(taskIds: readonly string[]): void {
    for (const taskId of taskIds) {
      const queued = this.queuedOn.get(taskId);
      if (queued !== undefined) {
        const at = queued.queue.indexOf(taskId);
        if (at !== -1) queued.queue.splice(at, 1);
        this.queuedOn.delete(taskId);
      }
      for (const session of this.sessions.values()) session.leased.delete(taskId);
    }
  }

  /** Requests a scheduling pass (assignment, then dispatch); passes never overlap. */
  schedule(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves once no pass is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  close(): void {
    this.closed = true;
  }

  private async loop(): Promise<void> {
    do {
      this.dirty = false;
      try {
        this.rebalance();
        await assignPending(this.core, this);
        for (const session of [...this.sessions.values()]) {
          if (session.credit > 0 && session.queue.length > 0) {
            if (await dispatchTo(this.core, this, session)) this.dirty = true;
          }
        }
      } catch (error) {
        if (this.closed) return;
        this.core.log("warn", "scheduling pass failed", { error: String(error) });
      }
    } while (this.dirty && !this.closed);
  }

  /**
   * Work queued at a device that has not asked for any (no credit) goes back to be assigned
   * again when another device waits for work, so a silent device cannot sit on tasks.
   */
  private rebalance(): void {
    const idle = [...this.sessions.values()].some((s) => s.credit > 0 && s.queue.length === 0);
    if (!idle) return;
    for (const session of this.sessions.values()) {
      if (session.credit === 0 && session.queue.length > 0) {
        for (const taskId of session.queue.splice(0)) this.queuedOn.delete(taskId);
      }
    }
  }
}
