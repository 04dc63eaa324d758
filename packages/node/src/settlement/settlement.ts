import { afterStrike, formatDpn, isDpnError, isQuarantined } from "@dpn/protocol";
import type { TaskResult, TaskTypeName, Verdict } from "@dpn/wire";
import type { Core } from "../core.ts";
import { afterRejected, INITIAL_REPUTATION } from "../devices/reputation.ts";
import { releaseHolds } from "../jobs/funding.ts";
import type { KindJob, Replication } from "../kinds/kind.ts";
import { kindOf } from "../kinds/registry.ts";
import { returnTask } from "../scheduler/requeue.ts";
import type { DeviceSession } from "../scheduler/session.ts";
import * as devices from "../store/devices.ts";
import * as jobs from "../store/jobs.ts";
import type { JobRow, TaskRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";
import { FINAL_TASK_STATES, RUNNING_TASK_STATES, transitionTask } from "../store/transitions.ts";
import { DeviceLanes } from "./lanes.ts";
import { fixAmounts, pay } from "./pay.ts";
import { Quorum } from "./quorum.ts";

/**
 * Settlement (docs/protocol.md §Verification, §Rewards and quotes): result intake, verification
 * routed to the task's kind, acceptance (at once or by quorum), payment, and what follows a
 * task's end. A result is taken in by the guarded change leased → verifying, for the lease the
 * device holds: from then on the task cannot expire, be re-leased or be cancelled, so a slow
 * verification can never pay another device or a released hold. The claim comes before any
 * verification, so a result repeated in another frame is refused without being recomputed;
 * claimed results then wait in their device's lane (lanes.ts), so one device's results never
 * hold more than MAX_VERIFICATIONS_PER_DEVICE of the verifier's processes.
 */
export class Settlement {
  private readonly quorum: Quorum;
  private readonly lanes: DeviceLanes;

  constructor(private readonly core: Core) {
    this.lanes = new DeviceLanes(core.verificationsPerDevice);
    this.quorum = new Quorum(core, {
      settle: async (task) => {
        const { budgetExhausted } = await fixAmounts(
          core,
          task,
          "replicated",
          task.output_json ?? "[]",
        );
        await this.payAndFollow(task.id, budgetExhausted);
      },
      outvote: (task, penalise) => this.outvote(task, penalise),
      failFragment: (job, code, how) => this.failFragment(job, code, how),
    });
  }

  /** Verifies and settles a frame of results from one device; answers with verdicts. */
  async onResults(session: DeviceSession, results: readonly TaskResult[]): Promise<void> {
    // Results settle concurrently: the ledger batches their postings into shared commits.
    const verdicts = await Promise.all(results.map((result) => this.intake(session, result)));
    session.send("node.verdicts", { verdicts });
    this.core.scheduler.schedule();
  }

  private async intake(session: DeviceSession, result: TaskResult): Promise<Verdict> {
    const { core } = this;
    const rejected = (code: string, reason: string): Verdict => ({
      taskId: result.taskId,
      accepted: false,
      code,
      reason,
      reward: "0",
    });
    const lease = session.leased.get(result.taskId);
    const task = await tasks.task(core.store.db, result.taskId);
    const guard = { deviceId: session.deviceId, attempt: lease?.attempt ?? -1 };
    if (
      lease === undefined ||
      task === undefined ||
      !(await transitionTask(
        core.store.db,
        task.id,
        "leased",
        "verifying",
        { lease_expires_ms: null },
        guard,
      ))
    ) {
      return rejected(
        "TASK_NOT_LEASED",
        "this task is not leased to this device (expired, reassigned or finished)",
      );
    }
    session.leased.delete(task.id);
    const row = (await jobs.job(core.store.db, task.job_id)) as JobRow;
    const kind = kindOf(core.kinds, row.type);
    const job: KindJob<TaskTypeName> = { row, spec: core.specs.of(row) };
    const verifying: TaskRow = { ...task, state: "verifying" };
    let verdict: Awaited<ReturnType<typeof kind.verify>>;
    try {
      verdict = await this.lanes.run(session.deviceId, () =>
        kind.verify(verifying, result.outputs, job),
      );
    } catch (error) {
      // The verifier, not the result, failed (ran past its budget, or its process died): the
      // task is offered again and the device is not penalised, since an honest result can meet
      // a slow verifier. Each attempt costs at most one budget, and attempts are capped.
      const code = isDpnError(error, "VERIFY_TIMEOUT") ? "VERIFY_TIMEOUT" : "VERIFY_FAILED";
      core.log("warn", "verification failed", {
        taskId: task.id,
        deviceId: session.deviceId,
        code,
        error: String(error),
      });
      await returnTask(core, verifying, "verifying", guard);
      return rejected(
        code,
        code === "VERIFY_TIMEOUT"
          ? "the verification ran past its time budget; the task is offered again"
          : "the verifier failed; the task is offered again",
      );
    }
    if (!verdict.ok) {
      await this.penalise(task.device_id as string, false);
      core.log("warn", "result rejected", {
        taskId: task.id,
        deviceId: session.deviceId,
        code: verdict.code,
      });
      await returnTask(core, verifying, "verifying", guard, session.deviceId);
      return rejected(verdict.code, verdict.reason);
    }
    const outputJson = JSON.stringify(result.outputs);
    const replication = kind.replication?.(verifying, job);
    if (replication !== undefined) {
      const replicated = await transitionTask(core.store.db, task.id, "verifying", "replicated", {
        output_json: outputJson,
      });
      if (!replicated) return rejected("TASK_NOT_LEASED", "the task was decided meanwhile");
      await this.quorum.decide(job, replication, {
        ...verifying,
        state: "replicated",
        output_json: outputJson,
      });
      return this.verdictOf(task.id, replication.codes);
    }
    const { fixed, budgetExhausted } = await fixAmounts(core, verifying, "verifying", outputJson);
    if (!fixed) return rejected("TASK_NOT_LEASED", "the task was decided meanwhile");
    const paid = await this.payAndFollow(task.id, budgetExhausted);
    return paidVerdict(task.id, paid, await tasks.task(core.store.db, task.id));
  }

  /** What became of a task after its result was taken in: paid, outvoted or still waiting. */
  private async verdictOf(taskId: string, codes: Replication["codes"]): Promise<Verdict> {
    const task = await tasks.task(this.core.store.db, taskId);
    if (task?.state === "done") return paidVerdict(taskId, BigInt(task.reward ?? "0"), task);
    if (task?.state === "outvoted" || task?.state === "cancelled" || task?.state === "failed") {
      return {
        taskId,
        accepted: false,
        code: codes.outvoted,
        reason: codes.reason,
        reward: "0",
      };
    }
    return { taskId, accepted: true, code: codes.pending, reward: "0" };
  }

  private async payAndFollow(taskId: string, budgetExhausted: boolean): Promise<bigint> {
    const paid = await pay(this.core, taskId);
    const task = await tasks.task(this.core.store.db, taskId);
    if (task === undefined) return paid;
    if (budgetExhausted) await this.core.jobs.end(task.job_id, "budget-exhausted");
    await this.ended(task);
    return paid;
  }

  private async outvote(task: TaskRow, penalise: boolean): Promise<void> {
    if (!(await transitionTask(this.core.store.db, task.id, "replicated", "outvoted"))) return;
    if (penalise && task.device_id !== null) await this.penalise(task.device_id, true);
    await releaseHolds(this.core.ledger, [task]);
    this.core.log("warn", "replica outvoted", { taskId: task.id, deviceId: task.device_id });
    this.core.events.emit("job", task.job_id);
    await this.ended(task);
  }

  private async failFragment(
    job: JobRow,
    code: string,
    how: "fail-job" | "drop" | "stop-job",
  ): Promise<void> {
    if (how === "fail-job") await this.core.jobs.end(job.id, "failed", code);
    else if (how === "stop-job") await this.core.jobs.end(job.id, "budget-exhausted", code);
  }

  /** A task ran out of attempts: its job fails, or (per its kind) goes on without it. */
  async taskFailed(taskId: string): Promise<void> {
    const task = await tasks.task(this.core.store.db, taskId);
    if (task === undefined) return;
    const row = await jobs.job(this.core.store.db, task.job_id);
    if (row === undefined) return;
    const kind = kindOf(this.core.kinds, row.type);
    if ((kind.whenTaskFails ?? "fail-job") === "fail-job") {
      await this.core.jobs.end(row.id, "failed", task.failure ?? "TASK_FAILED");
    }
    await this.ended(task);
  }

  /**
   * After a task ended: its kind decides what follows (a federated round may close), or, for
   * kinds whose jobs end with their tasks, the job is done once every fragment has a done task
   * and nothing runs.
   */
  async ended(task: TaskRow): Promise<void> {
    const { core } = this;
    const row = await jobs.job(core.store.db, task.job_id);
    if (row === undefined) return;
    const kind = kindOf(core.kinds, row.type);
    core.events.emit("job", row.id);
    if (kind.ended !== undefined) await kind.ended(task, { row, spec: core.specs.of(row) });
    if ((kind.finishes ?? "tasks") === "self" || row.state !== "open") return;
    const all = await tasks.tasksOf(core.store.db, row.id);
    if (all.some((t) => RUNNING_TASK_STATES.includes(t.state) || t.state === "waiting")) return;
    const fragments = new Set(all.map((t) => t.idx));
    const done = new Set(all.filter((t) => t.state === "done").map((t) => t.idx));
    if (done.size === fragments.size) {
      if (await core.jobs.end(row.id, "done")) core.log("info", "job done", { jobId: row.id });
    } else if (all.every((t) => FINAL_TASK_STATES.has(t.state))) {
      await core.jobs.end(row.id, "failed", "FRAGMENT_UNFINISHED");
    }
  }

  /**
   * A device's result was refused or outvoted: its reputation falls, it is not paid, and it
   * takes a strike; enough strikes within the window quarantine it (@dpn/protocol quarantine.ts):
   * no leases, its queued work goes to others and device.ready is refused (DEVICE_QUARANTINED).
   */
  private async penalise(deviceId: string, _outvoted: boolean): Promise<void> {
    const { core } = this;
    const session = core.scheduler.sessions.get(deviceId);
    const reputation = afterRejected(session?.reputation ?? (await this.reputationOf(deviceId)));
    if (session !== undefined) session.reputation = reputation;
    const nowMs = core.now();
    const record = await core.store.transaction(async (trx) => {
      await devices.recordOutcome(trx, {
        deviceId,
        accepted: false,
        reputation,
        rewardUnits: 0n,
        cu: 0,
        nowMs,
        runStartMs: session?.runStartMs ?? nowMs,
      });
      const row = await devices.device(trx, deviceId);
      if (row === undefined) return undefined;
      const next = afterStrike(devices.strikeRecord(row), nowMs, core.params.quarantine);
      await devices.setStrikeRecord(trx, deviceId, next);
      return { ...next, fingerprint: row.fingerprint };
    });
    if (record === undefined || !isQuarantined(record, nowMs)) return;
    core.log("warn", "device quarantined", {
      deviceId,
      untilMs: record.quarantinedUntilMs,
      quarantines: record.quarantines,
    });
    // Every device online on the same hardware fingerprint is quarantined with it.
    for (const id of await devices.devicesOnFingerprint(core.store.db, record.fingerprint)) {
      const online = core.scheduler.sessions.get(id);
      if (online !== undefined) core.scheduler.quarantine(online, record.quarantinedUntilMs);
    }
  }

  async reputationOf(deviceId: string): Promise<number> {
    const session = this.core.scheduler.sessions.get(deviceId);
    if (session !== undefined) return session.reputation;
    return (await devices.device(this.core.store.db, deviceId))?.reputation ?? INITIAL_REPUTATION;
  }

  /** After a restart: results accepted but not paid are paid; replicas waiting are decided. */
  async recover(): Promise<void> {
    const { core } = this;
    for (const task of await tasks.tasksInState(core.store.db, "settling")) {
      if (task.price === null) {
        // Made settling by a node before amounts were fixed: fix them now, then pay.
        await core.store.db
          .updateTable("tasks")
          .set({ state: "verifying" })
          .where("id", "=", task.id)
          .where("state", "=", "settling")
          .execute();
        await fixAmounts(
          core,
          { ...task, state: "verifying" },
          "verifying",
          task.output_json ?? "[]",
        );
      }
      await this.payAndFollow(task.id, false);
    }
    for (const task of await tasks.tasksInState(core.store.db, "replicated")) {
      const row = await jobs.job(core.store.db, task.job_id);
      if (row === undefined || row.state !== "open") continue;
      const job = { row, spec: core.specs.of(row) };
      const replication = kindOf(core.kinds, row.type).replication?.(task, job);
      if (replication !== undefined) await this.quorum.decide(job, replication, task);
    }
  }
}

/**
 * An accepted task's verdict: the reward minted, and, when the emission pool could not pay it,
 * the code the job view shows too (pay.ts), so the device is told as plainly as the requester.
 */
function paidVerdict(taskId: string, paid: bigint, task: TaskRow | undefined): Verdict {
  const verdict = { taskId, accepted: true, reward: formatDpn(paid) };
  if (task?.reward_withheld === null || task?.reward_withheld === undefined) return verdict;
  return {
    ...verdict,
    code: task.reward_withheld,
    reason:
      "accepted and paid for, but the emission pool held less than the reward: none was minted",
  };
}
