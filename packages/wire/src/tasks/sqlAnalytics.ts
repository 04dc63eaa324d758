import { z } from "zod";
import { Sha256Hex } from "../schemas.ts";
import { taskWire } from "./kind.ts";

/**
 * `sql-analytics` (docs/protocol.md §Analytics jobs): an aggregate query over data fragments;
 * the query is the analytics package's QuerySpec or SQL text, validated by the node against its
 * whitelist; each fragment runs on light devices under a reputation-adaptive replication quorum.
 */

/** One data fragment of an analytics job: an uploaded Parquet or CSV file. */
export const DataFragment = z.strictObject({
  sha256: Sha256Hex,
  format: z.enum(["parquet", "csv"]),
  /** Rows in the fragment, for the cost model (the requester declares; replicas check nothing). */
  rows: z.number().int().min(1).max(1_000_000_000),
});
export type DataFragment = z.infer<typeof DataFragment>;

export const AnalyticsJobSpec = z.strictObject({
  type: z.literal("sql-analytics"),
  query: z.union([z.string().min(1).max(4_096), z.record(z.string(), z.unknown())]),
  items: z.array(DataFragment).min(1).max(1_000),
  /** Release the merged result with Laplace noise at this ε (needs clamp bounds for sums). */
  epsilon: z.optional(z.number().positive().max(100)),
});

/** A leased fragment: the file (also in the lease's artifacts as `fragment`) and the parsed query. */
export const AnalyticsItem = DataFragment.extend({ query: z.record(z.string(), z.unknown()) });
export type AnalyticsItem = z.infer<typeof AnalyticsItem>;

/** What a device returns for one analytics fragment: the canonical partial aggregate. */
export const AnalyticsOutput = z.strictObject({
  partial: z.record(z.string(), z.unknown()),
  digest: Sha256Hex,
});
export type AnalyticsOutput = z.infer<typeof AnalyticsOutput>;

export const sqlAnalytics = taskWire({
  type: "sql-analytics",
  spec: AnalyticsJobSpec,
  item: AnalyticsItem,
  output: AnalyticsOutput,
  capability: undefined,
});
