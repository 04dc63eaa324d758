import * as jobs from "../../store/jobs.ts";
import type { TaskRow } from "../../store/schema.ts";
import * as tasks from "../../store/tasks.ts";
import {
  admitUpdate,
  closeRound,
  type FlSpec,
  weightsFromBase64,
  weightsToBase64,
} from "../federated/model.ts";
import * as flStore from "../federated/store.ts";
import type { KindContext, KindJob } from "../kind.ts";

/**
 * Synchronous FedAvg rounds (docs/protocol.md §Federated learning jobs): a round closes when all
 * its tasks have returned, or at its deadline with what arrived (what is still out is withdrawn);
 * the admitted updates are aggregated, the new model is evaluated and recorded, and the next
 * round opens or the job is done.
 */
export function roundOf(spec: FlSpec, task: Pick<TaskRow, "idx">): number {
  return Math.floor(task.idx / spec.devicesPerRound) + 1;
}

/** States in which a task of a round is still out. */
const OUT = new Set(["pending", "leased", "verifying", "replicated", "settling"]);

export class SyncRounds {
  /** When each job's current round opened (its deadline runs from there). */
  readonly openedAt = new Map<string, number>();
  private readonly closing = new Set<string>();

  constructor(private readonly context: KindContext) {}

  /** Closes the job's open round if every task returned (or `force`: its deadline passed). */
  async advance(job: KindJob<"fl-train">, force = false): Promise<void> {
    const { spec, row } = job;
    const { store } = this.context;
    const last = await flStore.lastRound(store.db, row.id);
    const current = await jobs.job(store.db, row.id);
    if (last === undefined || current?.state !== "open") return;
    const round = last.round + 1;
    if (round > spec.rounds || this.closing.has(row.id)) return;
    const all = await tasks.tasksOf(store.db, row.id);
    const mine = all.filter((t) => roundOf(spec, t) === round);
    const out = mine.filter((t) => OUT.has(t.state));
    if (out.length > 0 && !force) return;
    this.closing.add(row.id);
    try {
      // Results being verified or paid finish on their own; the rest is no longer needed.
      await this.context.withdraw(
        out.filter((t) => t.state !== "verifying" && t.state !== "settling"),
      );
      const contributions = countedUpdates(spec, mine);
      const outcome = await closeRound(spec, weightsFromBase64(last.weights), contributions);
      const now = this.context.now();
      await flStore.recordRound(store.db, {
        job_id: row.id,
        round,
        weights: weightsToBase64(outcome.weights),
        accuracy: outcome.accuracy,
        loss: outcome.loss,
        updates: outcome.updates,
        closed_ms: now,
      });
      this.context.log("info", "federated round closed", {
        jobId: row.id,
        round,
        updates: outcome.updates,
        accuracy: outcome.accuracy,
      });
      if (round === spec.rounds) {
        this.openedAt.delete(row.id);
        await this.context.finishJob(row.id, "done");
      } else {
        this.openedAt.set(row.id, now);
        await this.context.openTasks(
          all
            .filter((t) => roundOf(spec, t) === round + 1 && t.state === "waiting")
            .map((t) => t.id),
        );
      }
      this.context.changed(row.id);
    } finally {
      this.closing.delete(row.id);
    }
  }
}

/** One update per fragment: its accepted task's (the first replica that was paid). */
function countedUpdates(
  spec: FlSpec,
  roundTasks: readonly TaskRow[],
): Array<{ update: Float32Array; samples: number }> {
  const counted = new Map<number, { update: Float32Array; samples: number }>();
  for (const task of roundTasks) {
    if (task.state !== "done" || task.output_json === null || counted.has(task.idx)) continue;
    const admitted = admitUpdate(spec, JSON.parse(task.output_json) as unknown[]);
    if (admitted.ok)
      counted.set(task.idx, { update: admitted.update, samples: admitted.output.samples });
  }
  return [...counted.values()];
}
