import { DpnError } from "./errors.ts";
import { exceeds, nonNegative, positive, positiveInteger, unitInterval } from "./validate.ts";

/**
 * Five-fold oracle aggregation (docs/protocol.md §Oracles), §3.3: "Access to five major oracles
 * … take the median price. When the price fluctuates by more than 25%, it automatically switches
 * to the average price of the previous 7 days."
 *
 * Each round: drop readings that are invalid, stale or from the future; require a minimum of
 * live feeds; take the median. The median is compared with the mean of the previous 7 days'
 * round medians; a move of more than 25% publishes that mean instead (fallback). Every round's
 * raw median is kept in the history, so a genuine, lasting move enters the 7-day mean round by
 * round and is accepted once the mean is within 25% of it (about a day for a 30% step with
 * hourly rounds), while a one-round spike or a lying minority of feeds moves nothing.
 */
export interface FeedReading {
  readonly feedId: string;
  readonly value: number;
  readonly observedAtMs: number;
}

export interface OracleRound {
  readonly atMs: number;
  /** The raw median of the round, whether or not it was published. */
  readonly median: number;
}

export interface OracleParams {
  /** Readings older than this are stale: one hour, Chainlink's usual heartbeat (§4.5 "hourly"). */
  readonly maxStalenessMs: number;
  /** Fewer live feeds than this and no price is published: 3 of 5, a majority. */
  readonly minLiveFeeds: number;
  /** §3.3's 25%. */
  readonly jumpThreshold: number;
  /** §3.3's 7 days. */
  readonly fallbackWindowMs: number;
  /** Readings stamped further in the future than this are rejected (clock skew allowance). */
  readonly maxFutureSkewMs: number;
}

export const DEFAULT_ORACLE_PARAMS: OracleParams = {
  maxStalenessMs: 3_600_000,
  minLiveFeeds: 3,
  jumpThreshold: 0.25,
  fallbackWindowMs: 7 * 86_400_000,
  maxFutureSkewMs: 60_000,
};

/** Bounds a round's work and the size of the recorded round. */
export const MAX_FEEDS = 16;

export type RejectReason = "invalid" | "stale" | "future";

export interface OracleResult {
  /** The published value. */
  readonly value: number;
  readonly status: "median" | "fallback";
  readonly median: number;
  /** The mean of the previous 7 days' medians, when there was history. */
  readonly reference: number | undefined;
  readonly liveFeeds: readonly string[];
  readonly rejected: ReadonlyArray<{ readonly feedId: string; readonly reason: RejectReason }>;
  /** Append this to the history for the next round. */
  readonly round: OracleRound;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "The median of no values is undefined.");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Aggregates one round (docs/protocol.md §Oracles). */
export function aggregateOracle(
  readings: readonly FeedReading[],
  history: readonly OracleRound[],
  nowMs: number,
  params: OracleParams = DEFAULT_ORACLE_PARAMS,
): OracleResult {
  nonNegative("nowMs", nowMs);
  positiveInteger("minLiveFeeds", params.minLiveFeeds);
  unitInterval("jumpThreshold", params.jumpThreshold);
  if (readings.length === 0) {
    throw new DpnError("ORACLE_NO_FEEDS", "No oracle readings were given.", {
      hint: "Configure at least three price feeds (five by default).",
    });
  }
  if (readings.length > MAX_FEEDS) {
    throw new DpnError("ORACLE_TOO_MANY_FEEDS", `At most ${MAX_FEEDS} feeds per round.`, {
      details: { feeds: readings.length },
    });
  }
  const ids = new Set(readings.map((r) => r.feedId));
  if (ids.size !== readings.length) {
    throw new DpnError("ORACLE_DUPLICATE_FEED", "A feed reported twice in one round.", {
      hint: "Give each feed a distinct id and pass one reading per feed.",
    });
  }

  const { live, rejected } = freshReadings(readings, nowMs, params);
  if (live.length < params.minLiveFeeds) {
    throw new DpnError(
      "ORACLE_INSUFFICIENT_FEEDS",
      `Only ${live.length} of ${readings.length} feeds are live; ${params.minLiveFeeds} are needed.`,
      {
        hint: "Keep the last published price and alert the operator; check the rejected feeds.",
        details: { live: live.length, required: params.minLiveFeeds, rejected },
      },
    );
  }

  const roundMedian = median(live.map((r) => r.value));
  const reference = windowMean(history, nowMs, params.fallbackWindowMs);
  const jumped =
    reference !== undefined &&
    exceeds(Math.abs(roundMedian - reference) / reference, params.jumpThreshold);
  return {
    value: jumped && reference !== undefined ? reference : roundMedian,
    status: jumped ? "fallback" : "median",
    median: roundMedian,
    reference,
    liveFeeds: live.map((r) => r.feedId),
    rejected,
    round: { atMs: nowMs, median: roundMedian },
  };
}

/** Splits readings into live ones and those rejected as invalid, from the future or stale. */
export function freshReadings(
  readings: readonly FeedReading[],
  nowMs: number,
  params: OracleParams = DEFAULT_ORACLE_PARAMS,
): { live: FeedReading[]; rejected: Array<{ feedId: string; reason: RejectReason }> } {
  const live: FeedReading[] = [];
  const rejected: Array<{ feedId: string; reason: RejectReason }> = [];
  for (const reading of readings) {
    if (
      !Number.isFinite(reading.value) ||
      reading.value <= 0 ||
      !Number.isFinite(reading.observedAtMs)
    ) {
      rejected.push({ feedId: reading.feedId, reason: "invalid" });
    } else if (reading.observedAtMs > nowMs + params.maxFutureSkewMs) {
      rejected.push({ feedId: reading.feedId, reason: "future" });
    } else if (nowMs - reading.observedAtMs > params.maxStalenessMs) {
      rejected.push({ feedId: reading.feedId, reason: "stale" });
    } else {
      live.push(reading);
    }
  }
  return { live, rejected };
}

/** Mean of the medians of rounds in [nowMs − window, nowMs); undefined when there are none. */
export function windowMean(
  history: readonly OracleRound[],
  nowMs: number,
  windowMs: number,
): number | undefined {
  positive("windowMs", windowMs);
  let sum = 0;
  let count = 0;
  for (const round of history) {
    if (round.atMs >= nowMs - windowMs && round.atMs < nowMs && Number.isFinite(round.median)) {
      sum += round.median;
      count += 1;
    }
  }
  return count === 0 ? undefined : sum / count;
}

/** Drops rounds that can no longer affect any result, keeping the history bounded. */
export function pruneHistory(
  history: readonly OracleRound[],
  nowMs: number,
  params: OracleParams = DEFAULT_ORACLE_PARAMS,
): OracleRound[] {
  return history.filter((round) => round.atMs >= nowMs - params.fallbackWindowMs);
}

/** The last value an oracle published, and when (what a failed round keeps). */
export interface Published {
  readonly value: number;
  readonly atMs: number;
}

/**
 * The price an oracle has in force after a round (docs/protocol.md §Oracles, "Fallback"):
 * published by this round (`median` or the 7-day `fallback`), or `held` — the round had fewer than
 * `minLiveFeeds` fresh feeds, so the last published value stands, marked stale, with its age.
 */
export interface PriceInForce {
  readonly value: number;
  readonly status: "median" | "fallback" | "held";
  /** When the value in force was published. */
  readonly publishedAtMs: number;
  /** nowMs − publishedAtMs: how old a held value is (0 for a value published this round). */
  readonly ageMs: number;
  /** True when no round published the value now: it is held from an earlier round. */
  readonly stale: boolean;
}

export type OracleOutcome =
  | { readonly kind: "published"; readonly result: OracleResult; readonly price: PriceInForce }
  | {
      readonly kind: "held";
      /** The last published value, or undefined when the oracle never had a quorum. */
      readonly price: PriceInForce | undefined;
      readonly live: number;
      readonly rejected: OracleResult["rejected"];
    };

/**
 * One oracle round with its fallback: aggregates `readings` (feeds that failed to answer are
 * simply absent) and publishes, or, with fewer than `minLiveFeeds` fresh readings — none at all
 * included — keeps `last` in force, marked stale with its age. A held value has no expiry: it is
 * shown with its age wherever it is used, and the next round with a quorum replaces it.
 */
export function oracleRound(
  readings: readonly FeedReading[],
  history: readonly OracleRound[],
  last: Published | undefined,
  nowMs: number,
  params: OracleParams = DEFAULT_ORACLE_PARAMS,
): OracleOutcome {
  if (last !== undefined) positive("last.value", last.value);
  const held = (live: number, rejected: OracleResult["rejected"]): OracleOutcome => ({
    kind: "held",
    price:
      last === undefined
        ? undefined
        : {
            value: last.value,
            status: "held",
            publishedAtMs: last.atMs,
            // A clock stepped back (a restart on another clock) must not stop the bank: age 0.
            ageMs: Math.max(0, nowMs - last.atMs),
            stale: true,
          },
    live,
    rejected,
  });
  if (readings.length === 0) return held(0, []);
  const { live, rejected } = freshReadings(readings, nowMs, params);
  if (live.length < params.minLiveFeeds) return held(live.length, rejected);
  const result = aggregateOracle(readings, history, nowMs, params);
  return {
    kind: "published",
    result,
    price: {
      value: result.value,
      status: result.status,
      publishedAtMs: nowMs,
      ageMs: 0,
      stale: false,
    },
  };
}
