import {
  aggregateOracle,
  DpnError,
  type FeedReading,
  isDpnError,
  type OracleParams,
  type OracleResult,
  type OracleRound,
  pruneHistory,
} from "@dpn/protocol";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";
import type { Feed } from "./feeds.ts";
import type { PriceSource, Prices } from "./priceSource.ts";

/**
 * One aggregated price (docs/protocol.md §Oracles): each round reads every feed (a feed that
 * fails or times out is simply absent), aggregates with the protocol's median / 25%-jump rule,
 * and records the round, published or not, with its live and rejected feeds. If too few feeds
 * are live, the last published value stands and the failure is recorded.
 */
export interface RoundRecord {
  readonly oracle: string;
  readonly atMs: number;
  readonly value: number | null;
  readonly status: OracleResult["status"] | "failed";
  readonly median: number | null;
  readonly reference: number | null;
  readonly liveFeeds: readonly string[];
  readonly rejected: ReadonlyArray<{ readonly feedId: string; readonly reason: string }>;
  readonly error?: string;
}

export class Oracle {
  private history: OracleRound[] = [];
  private last: number | undefined;

  constructor(
    readonly name: string,
    readonly feeds: readonly Feed[],
    private readonly params: OracleParams,
    private readonly store: NodeStore,
  ) {}

  private loaded = false;

  /** The history the fallback needs, read once from the store (it survives restarts). */
  private async load(): Promise<void> {
    if (this.loaded) return;
    this.history = await records.oracleHistory(
      this.store.db,
      this.name,
      this.params.fallbackWindowMs,
    );
    this.last = await records.lastOracleValue(this.store.db, this.name);
    this.loaded = true;
  }

  async round(nowMs: number): Promise<number> {
    await this.load();
    const readings: FeedReading[] = [];
    const failed: Array<{ feedId: string; reason: string }> = [];
    await Promise.all(
      this.feeds.map(async (feed) => {
        try {
          readings.push(await feed.read(nowMs));
        } catch {
          failed.push({ feedId: feed.id, reason: "unreachable" });
        }
      }),
    );
    readings.sort((a, b) => (a.feedId < b.feedId ? -1 : 1));
    try {
      const result = aggregateOracle(readings, this.history, nowMs, this.params);
      this.history = pruneHistory([...this.history, result.round], nowMs, this.params);
      this.last = result.value;
      await this.record({
        oracle: this.name,
        atMs: nowMs,
        value: result.value,
        status: result.status,
        median: result.median,
        reference: result.reference ?? null,
        liveFeeds: result.liveFeeds,
        rejected: [...result.rejected, ...failed],
      });
      return result.value;
    } catch (error) {
      if (!isDpnError(error)) throw error;
      await this.record({
        oracle: this.name,
        atMs: nowMs,
        value: this.last ?? null,
        status: "failed",
        median: null,
        reference: null,
        liveFeeds: [],
        rejected: failed,
        error: error.code,
      });
      if (this.last === undefined) {
        throw new DpnError(
          "ORACLE_NO_PRICE",
          `The ${this.name} oracle has never had enough live feeds.`,
          {
            hint: "Check the feeds (GET /v1/economics/oracle); quotes resume when three are live.",
            cause: error,
          },
        );
      }
      return this.last;
    }
  }

  private record(round: RoundRecord): Promise<void> {
    return records.recordOracleRound(this.store.db, round);
  }
}

/** Prices from oracles: the DPN price from its five feeds, the compute price from its own. */
export function oraclePriceSource(dpn: Oracle, computePriceUsdPerCu: () => number): PriceSource {
  return {
    async read(nowMs): Promise<Prices> {
      return {
        dpnPriceUsd: await dpn.round(nowMs),
        computePriceUsdPerCu: computePriceUsdPerCu(),
        source: `oracle:${dpn.feeds.map((f) => `${f.id}(${f.kind})`).join(",")}`,
      };
    },
  };
}
