import { type CodesOf, errorTable } from "@dpn/protocol";

/**
 * Stable error codes of @dpn/analytics. Every failure a requester or a device can cause is a
 * DpnError carrying one of these; codes never change meaning once released.
 */

/** The query asks for something outside the whitelist: a write, a read of anything but its fragment, a forbidden function or statement. */
export const ANALYTICS_QUERY_REJECTED = "ANALYTICS_QUERY_REJECTED";
/** The query spec (or SQL text) is malformed: wrong shape, unknown aggregate, duplicate output, over a limit. */
export const ANALYTICS_QUERY_INVALID = "ANALYTICS_QUERY_INVALID";
/** The fragment reference is unusable: not an absolute path to an existing .parquet/.csv file. */
export const ANALYTICS_FRAGMENT_INVALID = "ANALYTICS_FRAGMENT_INVALID";
/** The query names a column the fragment lacks, or aggregates a column of an unsupported type. */
export const ANALYTICS_COLUMN_INVALID = "ANALYTICS_COLUMN_INVALID";
/** DuckDB failed while running a validated query (bad comparison value, corrupt file). */
export const ANALYTICS_EXECUTION_FAILED = "ANALYTICS_EXECUTION_FAILED";
/** The fragment yields more groups than one partial may carry. */
export const ANALYTICS_TOO_MANY_GROUPS = "ANALYTICS_TOO_MANY_GROUPS";
/** Partials cannot be merged: malformed, for another query, or with different column types. */
export const ANALYTICS_PARTIAL_INVALID = "ANALYTICS_PARTIAL_INVALID";
/** Noise was requested for an aggregate whose sensitivity is unknown or unbounded. */
export const ANALYTICS_NOISE_UNSUPPORTED = "ANALYTICS_NOISE_UNSUPPORTED";
/** The dataset splitter was given unusable options. */
export const ANALYTICS_SPLIT_INVALID = "ANALYTICS_SPLIT_INVALID";

/** The codes above with their HTTP status and meaning (docs/errors.md). */
export const ANALYTICS_ERRORS = errorTable({
  ANALYTICS_COLUMN_INVALID: {
    status: 400,
    meaning: "The query names a column the fragment lacks, or of an unsupported type.",
  },
  ANALYTICS_EXECUTION_FAILED: {
    status: 400,
    meaning: "DuckDB failed while running a validated query.",
  },
  ANALYTICS_FRAGMENT_INVALID: {
    status: 400,
    meaning: "The fragment is not an absolute path to an existing .parquet or .csv file.",
  },
  ANALYTICS_NOISE_UNSUPPORTED: {
    status: 400,
    meaning: "Noise was asked for an aggregate whose sensitivity is unknown or unbounded.",
  },
  ANALYTICS_PARTIAL_INVALID: {
    status: 400,
    meaning: "Partials cannot be merged: malformed, for another query, or of other column types.",
  },
  ANALYTICS_QUERY_INVALID: {
    status: 400,
    meaning: "The query spec or SQL text is malformed or over a limit.",
  },
  ANALYTICS_QUERY_REJECTED: {
    status: 400,
    meaning:
      "The query asks for something outside the whitelist (a write, another file, a forbidden function).",
  },
  ANALYTICS_SPLIT_INVALID: {
    status: 400,
    meaning: "The dataset splitter was given unusable options.",
  },
  ANALYTICS_TOO_MANY_GROUPS: {
    status: 400,
    meaning: "The fragment yields more groups than one partial may carry.",
  },
});

declare module "@dpn/protocol" {
  interface DpnErrorCodes extends CodesOf<typeof ANALYTICS_ERRORS> {}
}
