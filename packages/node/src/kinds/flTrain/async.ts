import * as jobs from "../../store/jobs.ts";
import * as tasks from "../../store/tasks.ts";
import { admitUpdate, mixAsync, weightsFromBase64, weightsToBase64 } from "../federated/model.ts";
import * as flStore from "../federated/store.ts";
import type { KindContext, KindJob } from "../kind.ts";

/**
 * FedAsync (docs/protocol.md §Federated learning jobs): each task trains from the newest model
 * version when it is leased; its update is mixed into the newest version as it arrives, with
 * α·(τ+1)^−½ for staleness τ, and each mix is a new evaluated version. One mix at a time per job.
 */
export class AsyncMixing {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly context: KindContext) {}

  /** Mixes the task's update (when it was paid), then finishes the job if nothing is left. */
  mix(job: KindJob<"fl-train">, taskId?: string): Promise<void> {
    const previous = this.chains.get(job.row.id) ?? Promise.resolve();
    const next = previous.then(() => this.mixNow(job, taskId));
    this.chains.set(
      job.row.id,
      next.catch(() => undefined),
    );
    return next;
  }

  private async mixNow(job: KindJob<"fl-train">, taskId: string | undefined): Promise<void> {
    const { store } = this.context;
    const { row, spec } = job;
    if ((await jobs.job(store.db, row.id))?.state !== "open") return;
    const latest = await flStore.lastRound(store.db, row.id);
    const task = taskId === undefined ? undefined : await tasks.task(store.db, taskId);
    if (latest === undefined) return;
    if (task !== undefined && task.state === "done" && task.output_json !== null) {
      const admitted = admitUpdate(spec, JSON.parse(task.output_json) as unknown[]);
      if (admitted.ok) {
        // The version it trained from was noted at its lease; unknown: as fresh as the newest.
        const noted =
          task.kind_data === null
            ? undefined
            : (JSON.parse(task.kind_data) as { baseVersion?: number }).baseVersion;
        const baseVersion = noted ?? latest.round;
        const stored = await flStore.round(store.db, row.id, baseVersion);
        // A version whose weights were pruned (limits.ts): mix against the newest instead.
        const base = stored !== undefined && stored.weights !== "" ? stored : latest;
        const outcome = await mixAsync(
          spec,
          weightsFromBase64(latest.weights),
          weightsFromBase64(base.weights),
          admitted.update,
          latest.round - baseVersion,
        );
        await flStore.recordRound(store.db, {
          job_id: row.id,
          round: latest.round + 1,
          weights: weightsToBase64(outcome.weights),
          accuracy: outcome.accuracy,
          loss: outcome.loss,
          updates: 1,
          closed_ms: this.context.now(),
        });
      }
    }
    // Done when nothing runs and every paid update has been mixed in: a concurrent settle may
    // have marked its task done while its mix still waits its turn in the chain.
    const all = await tasks.tasksOf(store.db, row.id);
    const running = all.some((t) =>
      ["pending", "leased", "verifying", "replicated", "settling"].includes(t.state),
    );
    const mixed = (await flStore.rounds(store.db, row.id)).length - 1;
    const paid = all.filter((t) => t.state === "done").length;
    if (!running && mixed >= paid) await this.context.finishJob(row.id, "done");
    this.context.changed(row.id);
  }
}
