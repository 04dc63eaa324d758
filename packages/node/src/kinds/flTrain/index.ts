import { createHash } from "node:crypto";
import { DEFAULT_QUORUM_POLICY } from "@dpn/protocol";
import * as jobs from "../../store/jobs.ts";
import type { TaskRow } from "../../store/schema.ts";
import * as tasks from "../../store/tasks.ts";
import {
  admitUpdate,
  closeRound,
  DEFAULT_ROUND_DEADLINE_MS,
  type FeaturesSpec,
  featureSetBytes,
  flSchedule,
  initialGlobal,
  MAX_SPOT_RUNS,
  planFl,
  requiredHolding,
  SPOT_TOLERANCE,
  selectedForSpotCheck,
  updateDistance,
  weightsToBase64,
} from "../federated/model.ts";
import { canRelease, chargeRelease, refuseExhaustedHolders } from "../federated/privacy.ts";
import * as flStore from "../federated/store.ts";
import type { KindFactory, KindJob } from "../kind.ts";
import { AsyncMixing } from "./async.ts";
import { roundOf, SyncRounds } from "./rounds.ts";

/**
 * `fl-train` (docs/protocol.md §Federated learning jobs): every task of every round is planned
 * (and its hold placed) at submission from the seeded schedule; round 0 is the initial model,
 * evaluated as a baseline. Work on private data goes to the data: a task goes only to a device
 * holding its partition (any heavy device when training on released features). Synchronous
 * updates are spot re-executed by another holder when drawn; the kind finishes its job itself.
 */
export const flTrainKind: KindFactory<"fl-train"> = (context) => {
  const sync = new SyncRounds(context);
  const mixing = new AsyncMixing(context);
  const partitionOf = (job: KindJob<"fl-train">, task: Pick<TaskRow, "idx">): string =>
    flSchedule(job.row.seed, job.spec)[task.idx]?.partition ?? "";
  return {
    type: "fl-train",
    finishes: "self",
    // A training task that no device could run is one update fewer, not a failed job.
    whenTaskFails: "continue",
    async plan({ spec, requester, seed, nowMs }) {
      // Released features are their fl-features job's result, so the requester's own: another
      // account's job is answered as no job at all, saying nothing of whether it exists.
      const plan = await planFl(spec, context.params.costModel, async (id) => {
        const source = await jobs.job(context.store.db, id);
        return source?.requester === requester ? source : undefined;
      });
      await refuseExhaustedHolders(context, spec);
      const planned = flSchedule(seed, spec).map((entry, idx) => ({
        idx,
        replica: 0,
        items: [idx, idx + 1] as const,
        cu: plan.taskCu,
        state:
          entry.round === 1 || spec.mode === "async" ? ("pending" as const) : ("waiting" as const),
      }));
      return {
        tasks: planned,
        prepare: async (jobId) => {
          const initial = await closeRound(spec, initialGlobal(spec, seed), []);
          await flStore.recordRound(context.store.db, {
            job_id: jobId,
            round: 0,
            weights: weightsToBase64(initial.weights),
            accuracy: initial.accuracy,
            loss: initial.loss,
            updates: 0,
            closed_ms: nowMs,
          });
          if (spec.mode !== "async") sync.openedAt.set(jobId, nowMs);
        },
        undo: async (jobId) => {
          sync.openedAt.delete(jobId);
          await flStore.deleteRounds(context.store.db, jobId);
        },
      };
    },
    async accepts(device, task, job) {
      const anyHolder = job.spec.features !== undefined;
      const holding = requiredHolding(job.spec, partitionOf(job, task));
      return (
        (anyHolder || device.datasets.includes(holding)) &&
        (await canRelease(context, device.deviceId, job.spec))
      );
    },
    async leased(device, task, job) {
      await chargeRelease(context, device.deviceId, job.spec);
      if (job.spec.mode === "async") {
        // The version it trains from: its staleness when it is mixed in.
        const latest = await flStore.lastRound(context.store.db, job.row.id);
        await context.store.db
          .updateTable("tasks")
          .set({ kind_data: JSON.stringify({ baseVersion: latest?.round ?? 0 }) })
          .where("id", "=", task.id)
          .execute();
      }
    },
    async lease(task, job) {
      const { spec, row } = job;
      const entry = flSchedule(row.seed, spec)[task.idx];
      const latest = await flStore.lastRound(context.store.db, row.id);
      const artifacts: Record<string, string> =
        spec.features === undefined
          ? {}
          : { featureSet: await featureSetArtifact(job, entry?.partition ?? "") };
      return {
        artifacts,
        items: [
          {
            dataset: spec.dataset,
            partition: entry?.partition ?? "",
            round: entry?.round ?? 0,
            weights: latest?.weights ?? "",
            model: spec.model,
            train: spec.train,
            topK: spec.topK ?? 1,
            // A re-execution repeats its fragment's first task exactly: the same seed and base.
            seed: `${row.seed}:${row.id}.${task.idx}`,
            ...(spec.privacy === undefined ? {} : { privacy: spec.privacy }),
          },
        ],
      };
    },
    async verify(_task, outputs, job) {
      const admitted = admitUpdate(job.spec, outputs);
      return admitted.ok ? { ok: true } : admitted;
    },
    replication(task, job) {
      // Spot re-execution needs the same inputs: synchronous rounds, no device-side noise.
      if (job.spec.mode === "async" || job.spec.privacy !== undefined) return undefined;
      const holding = requiredHolding(job.spec, partitionOf(job, task));
      return {
        // Reputation does not decide how many agree: one update stands unless it is drawn.
        policy: {
          ...DEFAULT_QUORUM_POLICY,
          trustedReputation: 0,
          lowReputation: 0,
          maxReplicas: 1 + MAX_SPOT_RUNS,
        },
        spotCheck: () =>
          selectedForSpotCheck(job.row.seed, `${job.row.id}.${task.idx}`, job.spec) &&
          [...context.online()].some(
            (s) => s.deviceId !== task.device_id && s.datasets.includes(holding),
          ),
        agree: async (a, b) => {
          const ua = admitUpdate(job.spec, JSON.parse(a.output_json ?? "[]") as unknown[]);
          const ub = admitUpdate(job.spec, JSON.parse(b.output_json ?? "[]") as unknown[]);
          return ua.ok && ub.ok && updateDistance(ua.update, ub.update) <= SPOT_TOLERANCE;
        },
        inconclusive: "drop",
        // No funds to check it: the update stands unchecked rather than stall the round.
        unfunded: "accept-leader",
        codes: {
          pending: "SPOT_CHECK_PENDING",
          outvoted: "SPOT_CHECK_FAILED",
          reason: "a re-execution of this task disagreed with it",
        },
      };
    },
    async ended(task, job) {
      if (job.spec.mode === "async") await mixing.mix(job, task.id);
      else await sync.advance(job);
    },
    async result(job) {
      const history = await flStore.rounds(context.store.db, job.row.id);
      const last = history[history.length - 1];
      return {
        outputs: [],
        result: {
          model: job.spec.model,
          dataset: job.spec.dataset,
          rounds: history.map((r) => ({
            round: r.round,
            accuracy: r.accuracy,
            loss: r.loss,
            updates: r.updates,
            closedMs: r.closed_ms,
          })),
          weights: last?.weights ?? null,
        },
      };
    },
    async sweep(nowMs) {
      // A round closes at its deadline with the updates it has (FedAvg's deadline).
      for (const [jobId, openedAt] of sync.openedAt) {
        const row = await jobs.job(context.store.db, jobId);
        if (row === undefined || row.state !== "open") {
          sync.openedAt.delete(jobId);
          continue;
        }
        const spec = context.specOf<"fl-train">(row);
        if (nowMs - openedAt >= (spec.roundDeadlineMs ?? DEFAULT_ROUND_DEADLINE_MS)) {
          await sync.advance({ row, spec }, true);
        }
      }
    },
    async recover() {
      // The open round's deadline restarts now; a round that completed before the crash closes.
      for (const row of await jobs.jobsInState(context.store.db, "open")) {
        if (row.type !== "fl-train") continue;
        const spec = context.specOf<"fl-train">(row);
        if (spec.mode === "async") {
          await mixing.mix({ row, spec });
        } else {
          sync.openedAt.set(row.id, context.now());
          await sync.advance({ row, spec });
        }
      }
    },
  };

  /** The released feature set a task trains on: the fl-features job's accepted output. */
  async function featureSetArtifact(job: KindJob<"fl-train">, partition: string): Promise<string> {
    const source = await jobs.job(context.store.db, job.spec.features ?? "");
    if (source === undefined) return "";
    const sourceSpec = JSON.parse(source.spec_json) as FeaturesSpec;
    const idx = sourceSpec.partitions.indexOf(partition);
    const released = (await tasks.tasksOf(context.store.db, source.id)).find(
      (t) => t.idx === idx && t.state === "done" && t.output_json !== null,
    );
    if (released === undefined) return "";
    return createHash("sha256")
      .update(featureSetBytes(released.output_json as string))
      .digest("hex");
  }
};

export { roundOf };
