import { randomBytes } from "node:crypto";
import { parsePartial } from "@dpn/analytics";
import { DEFAULT_QUORUM_POLICY, DpnError, planReplication, seededRng } from "@dpn/protocol";
import { requireUsable } from "../../artifactAccess.ts";
import type { KindFactory, Replication } from "../kind.ts";
import { replicated } from "../plan.ts";
import {
  analyticsItemCosts,
  analyticsQuery,
  checkAnalyticsOutput,
  INITIAL_REPLICAS,
  releaseResult,
} from "./analytics.ts";

/**
 * `sql-analytics` (docs/protocol.md §Analytics jobs): one fragment per data file, each run by
 * INITIAL_REPLICAS devices; the digests of the partials (recomputed here, never trusted) are
 * decided by the reputation-adaptive replication quorum, and the accepted partials merged.
 */
export const sqlAnalyticsKind: KindFactory<"sql-analytics"> = (context) => ({
  type: "sql-analytics",
  async plan({ spec, requester }) {
    const query = analyticsQuery(spec);
    for (const item of spec.items) {
      // Asked first, so a stranger cannot learn whether someone stored these bytes.
      await requireUsable(context.store.db, item.sha256, requester, "The data fragment");
      if (!context.artifacts.has(item.sha256)) {
        throw new DpnError(
          "ARTIFACT_NOT_FOUND",
          `The data fragment ${item.sha256} has not been uploaded.`,
          { hint: "Upload it first (PUT /v1/artifacts/{sha256}), then submit the job." },
        );
      }
    }
    const costs = analyticsItemCosts(spec, query, context.params.costModel);
    const fragments = costs.map((cu, idx) => ({ items: [idx, idx + 1] as const, cu }));
    const tasks = replicated(fragments, INITIAL_REPLICAS);
    // A noised release draws its noise from a secret of this node's (kept with the job, never in
    // a view): from the public job seed anyone could redraw the noise and subtract it.
    return spec.epsilon === undefined
      ? { tasks }
      : { tasks, kindData: { releaseSeed: randomBytes(32).toString("hex") } satisfies ReleaseData };
  },
  async lease(task, job) {
    const item = job.spec.items[task.item_from];
    if (item === undefined) throw new Error(`task ${task.id} names no data fragment`);
    const query = analyticsQuery(job.spec) as unknown as Record<string, unknown>;
    return { artifacts: { fragment: item.sha256 }, items: [{ ...item, query }] };
  },
  async verify(_task, outputs, job) {
    const checked = checkAnalyticsOutput(analyticsQuery(job.spec), outputs);
    return checked.ok ? { ok: true } : checked;
  },
  replication(task, job) {
    return {
      policy: DEFAULT_QUORUM_POLICY,
      spotCheck: (reputation) =>
        planReplication(reputation, seededRng(`${job.row.seed}:spot:${task.idx}`)).spotCheck,
      agree: async (a, b) => digestOf(a.output_json) === digestOf(b.output_json),
      inconclusive: "fail-job",
      unfunded: "stop-job",
      codes: QUORUM_CODES,
    };
  },
  async result(job, tasks) {
    // One done replica per fragment: agreeing replicas are byte-identical.
    const accepted = new Map<number, unknown>();
    for (const task of tasks) {
      if (task.state === "done" && task.output_json !== null && !accepted.has(task.idx)) {
        accepted.set(
          task.idx,
          (JSON.parse(task.output_json) as Array<{ partial: unknown }>)[0]?.partial,
        );
      }
    }
    const partials = job.spec.items.map((_, idx) => accepted.get(idx) ?? null);
    // The exact partials of a noised job are never returned: with them the noise is undone.
    const noised = job.spec.epsilon !== undefined;
    const outputs = noised ? partials.map(() => null) : partials;
    if (accepted.size < job.spec.items.length) return { outputs };
    const query = analyticsQuery(job.spec);
    const parsed = partials.map((partial) => parsePartial(query, partial));
    const seed = noised ? releaseSeedOf(job.row.kind_data) : job.row.seed;
    return { outputs, result: releaseResult(job.row.id, seed, job.spec, parsed) };
  },
});

const QUORUM_CODES: Replication["codes"] = {
  pending: "QUORUM_PENDING",
  outvoted: "QUORUM_OUTVOTED",
  reason: "other replicas of this fragment agreed on another result",
};

function digestOf(outputJson: string | null): string {
  return (JSON.parse(outputJson ?? "[]") as Array<{ digest?: string }>)[0]?.digest ?? "";
}

/** What a noised analytics job keeps with it: the secret its release noise is drawn from. */
interface ReleaseData {
  readonly releaseSeed: string;
}

function releaseSeedOf(kindData: string | null): string {
  const seed =
    kindData === null ? undefined : (JSON.parse(kindData) as Partial<ReleaseData>).releaseSeed;
  if (seed === undefined) throw new Error("a noised analytics job has no release seed");
  return seed;
}
