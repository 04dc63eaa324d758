import {
  canonicalJson,
  combinePartials,
  finalizeResult,
  type NoisyResult,
  type Partial,
  parsePartial,
  parseQuerySpec,
  parseSqlQuery,
  type QueryResult,
  type QuerySpec,
  releaseWithLaplace,
  sha256Hex,
} from "@dpn/analytics";
import {
  type CostModelParams,
  costCu,
  createPrivacyBudget,
  DpnError,
  isDpnError,
  seededRng,
} from "@dpn/protocol";
import { AnalyticsOutput, parseMessage, type SpecOf } from "@dpn/wire";
import type { Verdict } from "../kind.ts";

/**
 * `sql-analytics` jobs in the bank (docs/protocol.md §Analytics jobs): the query is validated
 * against the analytics whitelist at submission, each data fragment is one task run on a light
 * (or any) device, results are compared by digest under a reputation-adaptive k-of-n quorum
 * (BOINC style), and the accepted partial aggregates are merged into the job's result.
 */
export type AnalyticsSpec = SpecOf<"sql-analytics">;

/** Replicas placed per fragment at submission: the base quorum of an ordinary device. */
export const INITIAL_REPLICAS = 2;

/** The query as the node will run it; throws the analytics package's coded errors. */
export function analyticsQuery(spec: AnalyticsSpec): QuerySpec {
  return typeof spec.query === "string" ? parseSqlQuery(spec.query) : parseQuerySpec(spec.query);
}

/** CU of one execution of the query over each fragment: rows × columns read (§Compute units). */
export function analyticsItemCosts(
  spec: AnalyticsSpec,
  query: QuerySpec,
  costModel: CostModelParams,
): number[] {
  const columns = new Set<string>([
    ...(query.groupBy ?? []),
    ...query.select.flatMap((s) => (s.column === undefined ? [] : [s.column])),
    ...(query.where ?? []).map((w) => w.column),
  ]);
  return spec.items.map((item) =>
    costCu(
      { type: "sql-analytics", rows: item.rows, columns: Math.max(1, columns.size) },
      costModel,
    ),
  );
}

/**
 * Checks one replica's output: the partial must parse for this query, and its digest is
 * recomputed here (a device's own digest is never trusted). Agreement is decided by the quorum.
 */
export function checkAnalyticsOutput(
  query: QuerySpec,
  outputs: readonly unknown[],
): Extract<Verdict, { ok: false }> | { ok: true; digest: string; partial: Partial } {
  try {
    if (outputs.length !== 1)
      throw new DpnError("ANALYTICS_PARTIAL_INVALID", "one output per fragment");
    const output = parseMessage(AnalyticsOutput, outputs[0], "analytics output");
    const partial = parsePartial(query, output.partial);
    const digest = sha256Hex(canonicalJson(partial));
    if (digest !== output.digest) {
      return {
        ok: false,
        code: "ANALYTICS_DIGEST_MISMATCH",
        reason: "the digest is not the partial's",
      };
    }
    return { ok: true, digest, partial };
  } catch (error) {
    if (!isDpnError(error)) throw error;
    return { ok: false, code: error.code, reason: error.message };
  }
}

export interface AnalyticsRelease {
  readonly result: QueryResult | NoisyResult;
  /** ε spent on the release (absent: released exactly). */
  readonly epsilon?: number;
}

/**
 * Merges the accepted partials (one per fragment) into the job's result; with `epsilon`, the
 * release carries Laplace noise drawn from `noiseSeed` (the job's secret release seed, so the
 * released numbers are fixed once and nobody else can redraw them).
 */
export function releaseResult(
  jobId: string,
  noiseSeed: string,
  spec: AnalyticsSpec,
  partials: readonly Partial[],
): AnalyticsRelease {
  const query = analyticsQuery(spec);
  const combined = combinePartials(query, partials);
  if (spec.epsilon === undefined) return { result: finalizeResult(query, combined) };
  const { result } = releaseWithLaplace(
    query,
    combined,
    { epsilon: spec.epsilon },
    createPrivacyBudget(jobId, "release"),
    seededRng(`${noiseSeed}:release`),
  );
  return { result, epsilon: spec.epsilon };
}
