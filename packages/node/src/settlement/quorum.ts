import { createHash } from "node:crypto";
import { decideQuorum, priceDpn } from "@dpn/protocol";
import type { TaskTypeName } from "@dpn/wire";
import type { Core } from "../core.ts";
import type { KindJob, Replication } from "../kinds/kind.ts";
import type { JobRow, TaskRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";

/**
 * The replication quorum of one fragment (docs/protocol.md §Replication quorum): the verified
 * results returned so far are grouped into classes that agree (the kind says what agreeing is:
 * equal digests, or images within a pixel tolerance), and the protocol's decideQuorum takes it
 * from there. On a quorum the agreeing replicas are paid, the others are outvoted (unpaid, their
 * reputation falls) and the replicas still out are withdrawn; without one, more replicas are
 * placed, each with its own hold; past the policy's limit the fragment is inconclusive.
 * Decisions of one fragment run one at a time.
 */
export type ReplicaOutcome = "paid" | "outvoted" | "pending";

export interface QuorumActions {
  settle(task: TaskRow): Promise<void>;
  outvote(task: TaskRow, penalise: boolean): Promise<void>;
  /** The fragment has no result (inconclusive or unfunded, per the kind). */
  failFragment(
    job: JobRow,
    code: string,
    how: Replication["inconclusive"] | "stop-job",
  ): Promise<void>;
}

export const QUORUM_INCONCLUSIVE = "QUORUM_INCONCLUSIVE";

export class Quorum {
  private readonly locks = new Map<string, Promise<void>>();

  constructor(
    private readonly core: Core,
    private readonly actions: QuorumActions,
  ) {}

  /** Decides the fragment of `task` (a replicated task of `job`), one decision at a time. */
  decide(job: KindJob<TaskTypeName>, replication: Replication, task: TaskRow): Promise<void> {
    const key = `${task.job_id}:${task.idx}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.decideNow(job, replication, task));
    const settled = next.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return next;
  }

  private async decideNow(
    job: KindJob<TaskTypeName>,
    replication: Replication,
    task: TaskRow,
  ): Promise<void> {
    const fragment = await tasks.fragmentTasks(this.core.store.db, task.job_id, task.idx);
    const returned = fragment.filter((t) => t.state === "replicated" && t.device_id !== null);
    const accepted = fragment.find((t) => t.state === "done" || t.state === "settling");
    if (accepted !== undefined) {
      // Decided already: a late replica is paid if it agrees with the accepted result.
      for (const late of returned) {
        if (await replication.agree(accepted, late)) await this.actions.settle(late);
        else await this.actions.outvote(late, true);
      }
      return;
    }
    if (returned.length === 0) return;
    const classes = await this.classify(replication, returned);
    const reputations: Record<string, number> = {};
    for (const t of returned) {
      reputations[t.device_id as string] = await this.core.settlement.reputationOf(
        t.device_id as string,
      );
    }
    const first = returned[0] as TaskRow;
    const decision = decideQuorum({
      replicas: returned.map((t) => ({
        deviceId: t.device_id as string,
        digest: classes.get(t.id) as string,
      })),
      reputations,
      spotCheck: replication.spotCheck(reputations[first.device_id as string] ?? 0),
      policy: replication.policy,
    });
    const open = fragment.filter((t) => t.state === "pending" || t.state === "leased");
    if (decision.status === "accepted") {
      for (const t of returned) {
        if (decision.agreeing.includes(t.device_id as string)) await this.actions.settle(t);
        else await this.actions.outvote(t, true);
      }
      await this.core.jobs.withdraw(open);
      return;
    }
    if (decision.status === "inconclusive") {
      this.core.log("warn", "no quorum for a fragment", { jobId: task.job_id, idx: task.idx });
      for (const t of returned) await this.actions.outvote(t, false);
      await this.core.jobs.withdraw(open);
      await this.actions.failFragment(job.row, QUORUM_INCONCLUSIVE, replication.inconclusive);
      return;
    }
    const verifying = fragment.filter((t) => t.state === "verifying").length;
    const missing = decision.additionalReplicas - open.length - verifying;
    if (missing <= 0) return;
    // Each new replica holds twice its price now, so a rate move cannot leave it unpaid.
    const economics = await this.core.economics();
    const holdEach = priceDpn(first.cu, economics.rate) * 2n;
    if (await this.core.jobs.addReplicas(job.row, fragment, missing, holdEach)) return;
    if (replication.unfunded === "accept-leader") {
      const leader = classes.get(first.id);
      for (const t of returned) if (classes.get(t.id) === leader) await this.actions.settle(t);
      for (const t of returned)
        if (classes.get(t.id) !== leader) await this.actions.outvote(t, false);
      return;
    }
    this.core.log("warn", "no funds for another replica; the job stops", { jobId: task.job_id });
    for (const t of returned) await this.actions.outvote(t, false);
    await this.actions.failFragment(job.row, "BUDGET_EXHAUSTED", "stop-job");
  }

  /** Names each returned replica's class of agreement: its first agreeing replica's id hash. */
  private async classify(
    replication: Replication,
    returned: readonly TaskRow[],
  ): Promise<Map<string, string>> {
    const representatives: TaskRow[] = [];
    const classes = new Map<string, string>();
    for (const t of returned) {
      let representative: TaskRow | undefined;
      for (const r of representatives) {
        if (await replication.agree(r, t)) {
          representative = r;
          break;
        }
      }
      if (representative === undefined) {
        representative = t;
        representatives.push(t);
      }
      classes.set(t.id, createHash("sha256").update(representative.id).digest("hex"));
    }
    return classes;
  }
}
