import { DpnError, isDpnError } from "@dpn/protocol";
import type { JobSubmit, JobView } from "@dpn/wire";
import type { Core } from "../core.ts";
import type { PlannedTask } from "../kinds/kind.ts";
import type { JobRow, JobState, TaskRow } from "../store/schema.ts";
import * as tasks from "../store/tasks.ts";
import { CANCELLABLE_TASK_STATES, transitionJob, transitionTask } from "../store/transitions.ts";
import { placeHolds, releaseHolds } from "./funding.ts";
import { newTaskRow } from "./rows.ts";
import { type SignedSubmission, submitJob } from "./submit.ts";
import { jobView, requireJob } from "./views.ts";

/**
 * The job lifecycle (docs/protocol.md §Jobs): submission, cancellation and every other way a job
 * ends, and the task changes kinds ask for (open a round, withdraw tasks, add replicas).
 * Ending a job takes back only the tasks not yet returned: a result being verified or paid is
 * decided first, and paid from its own hold, which stays open until then.
 */
export class JobLifecycle {
  constructor(private readonly core: Core) {}

  submit(requester: string, submit: JobSubmit, signed: SignedSubmission): Promise<JobView> {
    return submitJob(this.core, requester, submit, signed);
  }

  /** The requester cancels: unreturned tasks are withdrawn and their holds released. */
  async cancel(requester: string, jobId: string): Promise<JobView> {
    const job = await requireJob(this.core, jobId);
    if (job.requester !== requester) {
      throw new DpnError("JOB_NOT_YOURS", "Only the requester who submitted a job can cancel it.", {
        hint: "Sign the cancellation with the key that submitted the job.",
      });
    }
    await this.end(jobId, "cancelled");
    return jobView(this.core, jobId);
  }

  /**
   * Ends an open (or funding) job in `state`; false if it had already ended. Its tasks not yet
   * returned are withdrawn; results under verification or payment are decided and paid later.
   */
  async end(jobId: string, state: JobState, failure?: string): Promise<boolean> {
    const { store } = this.core;
    // A job still being funded can be stopped, but only an open one can be done.
    const from: JobState[] = state === "done" ? ["open"] : ["open", "funding"];
    const ended = await transitionJob(store.db, jobId, from, state, {
      finished_ms: this.core.now(),
      failure: failure ?? null,
    });
    if (!ended) return false;
    const open = (await tasks.tasksOf(store.db, jobId)).filter((t) =>
      CANCELLABLE_TASK_STATES.includes(t.state),
    );
    const withdrawn = await this.withdraw(open);
    this.core.events.emit("job", jobId);
    this.core.log("info", `job ${state}`, {
      jobId,
      withdrawn,
      ...(failure === undefined ? {} : { failure }),
    });
    return true;
  }

  /**
   * Takes back tasks not yet returned (waiting, pending, leased, replicated): each is cancelled
   * if it is still in the state read, its device forgets it and its hold is released.
   * Returns how many were withdrawn.
   */
  async withdraw(candidates: readonly TaskRow[]): Promise<number> {
    const withdrawn: TaskRow[] = [];
    for (const task of candidates) {
      if (!CANCELLABLE_TASK_STATES.includes(task.state)) continue;
      if (
        await transitionTask(this.core.store.db, task.id, task.state, "cancelled", {
          lease_expires_ms: null,
        })
      ) {
        withdrawn.push(task);
      }
    }
    this.core.scheduler.forget(withdrawn.map((t) => t.id));
    await releaseHolds(this.core.ledger, withdrawn);
    return withdrawn.length;
  }

  /** Opens waiting tasks (a federated round) and schedules them. */
  async openTasks(taskIds: readonly string[]): Promise<void> {
    for (const id of taskIds) await transitionTask(this.core.store.db, id, "waiting", "pending");
    this.core.scheduler.schedule();
  }

  /**
   * Places more replicas of a fragment, each with a hold of `holdEach` from the requester's free
   * balance. False when the requester cannot fund them (nothing is placed then).
   */
  async addReplicas(
    job: JobRow,
    fragment: readonly TaskRow[],
    count: number,
    holdEach: bigint,
  ): Promise<boolean> {
    const template = fragment[0];
    if (template === undefined || count <= 0) return true;
    const next = Math.max(...fragment.map((t) => t.replica)) + 1;
    const rows = Array.from({ length: count }, (_, n) => {
      const planned: PlannedTask = {
        idx: template.idx,
        replica: next + n,
        items: [template.item_from, template.item_to],
        cu: template.cu,
        state: "pending",
      };
      return newTaskRow(job.id, planned, holdEach);
    });
    try {
      await placeHolds(this.core.ledger, job, rows);
    } catch (error) {
      if (!isDpnError(error, "LEDGER_INSUFFICIENT_FUNDS")) throw error;
      await releaseHolds(this.core.ledger, rows);
      return false;
    }
    await this.core.store.transaction((trx) => tasks.insertTasks(trx, rows));
    this.core.log("info", "replicas added", { jobId: job.id, idx: template.idx, count });
    this.core.scheduler.schedule();
    return true;
  }
}
