import {
  DpnError,
  type FeedReading,
  isDpnError,
  type OracleParams,
  type OracleRound,
  oracleRound,
  type PriceInForce,
  type Published,
  pruneHistory,
} from "@dpn/protocol";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";
import { type Feed, type FeedKind, isSimulated, type OracleName } from "./feeds.ts";
import type { PriceQuality, PriceSource, Prices } from "./priceSource.ts";

/**
 * One aggregated price (docs/protocol.md §Oracles): each round reads every feed (a feed that
 * fails or times out is absent, its error code recorded as the reason), and the protocol's
 * `oracleRound` publishes the median (or the 7-day mean after a jump of more than 25%), or —
 * with fewer than three fresh feeds — keeps the last published value in force, marked stale
 * with its age. Every round is recorded, published or not, with its live and rejected feeds.
 */
export interface RoundRecord {
  readonly oracle: string;
  readonly atMs: number;
  /** The value in force after the round (null before any was published). */
  readonly value: number | null;
  readonly status: "median" | "fallback" | "failed";
  readonly median: number | null;
  readonly reference: number | null;
  readonly liveFeeds: readonly string[];
  readonly rejected: ReadonlyArray<{ readonly feedId: string; readonly reason: string }>;
  readonly error?: string;
  /** True when the value in force was held from an earlier round. */
  readonly stale?: boolean;
  /** Age of the value in force, ms. */
  readonly ageMs?: number;
}

/** An oracle as the API shows it: its feeds with their kinds, and the price in force. */
export interface OracleView {
  readonly name: OracleName;
  readonly unit: "USD/DPN" | "USD/CU";
  /** True when any of its feeds is simulated: then so may be its price. */
  readonly simulated: boolean;
  readonly price: PriceInForce | null;
  readonly feeds: Array<{
    readonly id: string;
    readonly kind: FeedKind;
    readonly simulated: boolean;
  }>;
}

export class Oracle {
  private history: OracleRound[] = [];
  private last: Published | undefined;
  private inForce: PriceInForce | undefined;
  private loaded = false;

  constructor(
    readonly name: OracleName,
    readonly unit: OracleView["unit"],
    readonly feeds: readonly Feed[],
    private readonly params: OracleParams,
    private readonly store: NodeStore,
  ) {}

  /** True when any feed is simulated (docs/protocol.md §Oracles, "Labels"). */
  get simulated(): boolean {
    return this.feeds.some(isSimulated);
  }

  /** The price in force after the last round, if any round has published one. */
  current(): PriceInForce | undefined {
    return this.inForce;
  }

  view(): OracleView {
    return {
      name: this.name,
      unit: this.unit,
      simulated: this.simulated,
      price: this.inForce ?? null,
      feeds: this.feeds.map((f) => ({ id: f.id, kind: f.kind, simulated: isSimulated(f) })),
    };
  }

  /** The history the fallback needs, read once from the store (it survives restarts). */
  private async load(): Promise<void> {
    if (this.loaded) return;
    this.history = await records.oracleHistory(
      this.store.db,
      this.name,
      this.params.fallbackWindowMs,
    );
    this.last = await records.lastPublished(this.store.db, this.name);
    this.loaded = true;
  }

  /** Runs one round; the price in force after it (ORACLE_NO_PRICE if there has never been one). */
  async round(nowMs: number): Promise<PriceInForce> {
    await this.load();
    const readings: FeedReading[] = [];
    const failed: Array<{ feedId: string; reason: string }> = [];
    await Promise.all(
      this.feeds.map(async (feed) => {
        try {
          readings.push(await feed.read(nowMs));
        } catch (error) {
          // A feed's own coded failure is the reason recorded; anything else is a bug in a feed.
          if (!isDpnError(error)) throw error;
          failed.push({ feedId: feed.id, reason: error.code });
        }
      }),
    );
    readings.sort((a, b) => (a.feedId < b.feedId ? -1 : 1));
    failed.sort((a, b) => (a.feedId < b.feedId ? -1 : 1));
    const outcome = oracleRound(readings, this.history, this.last, nowMs, this.params);
    if (outcome.kind === "published") {
      const { result } = outcome;
      this.history = pruneHistory([...this.history, result.round], nowMs, this.params);
      this.last = { value: result.value, atMs: nowMs };
      this.inForce = outcome.price;
      await this.record({
        oracle: this.name,
        atMs: nowMs,
        value: result.value,
        status: result.status,
        median: result.median,
        reference: result.reference ?? null,
        liveFeeds: result.liveFeeds,
        rejected: [...result.rejected, ...failed],
        stale: false,
        ageMs: 0,
      });
      return outcome.price;
    }
    this.inForce = outcome.price;
    await this.record({
      oracle: this.name,
      atMs: nowMs,
      value: outcome.price?.value ?? null,
      status: "failed",
      median: null,
      reference: null,
      liveFeeds: [],
      rejected: [...outcome.rejected, ...failed],
      error: "ORACLE_INSUFFICIENT_FEEDS",
      ...(outcome.price === undefined
        ? {}
        : { stale: outcome.price.stale, ageMs: outcome.price.ageMs }),
    });
    if (outcome.price === undefined) {
      throw new DpnError(
        "ORACLE_NO_PRICE",
        `The ${this.name} oracle has never had enough live feeds (${outcome.live} of ${this.params.minLiveFeeds}).`,
        {
          hint: "Check the feeds (GET /v1/economics/prices); quotes resume when three are live.",
        },
      );
    }
    return outcome.price;
  }

  private record(round: RoundRecord): Promise<void> {
    return records.recordOracleRound(this.store.db, round);
  }
}

function quality(oracle: Oracle, price: PriceInForce): PriceQuality {
  return {
    status: price.status,
    stale: price.stale,
    ageMs: price.ageMs,
    simulated: oracle.simulated,
  };
}

/**
 * Prices from the two oracles: DPN/USD first, then the compute price, whose clearing feed
 * converts what requesters paid in DPN to USD at the DPN price this round just put in force.
 */
export function oraclePriceSource(dpn: Oracle, compute: Oracle): PriceSource {
  const describe = (o: Oracle) =>
    `${o.name}[${o.feeds.map((f) => `${f.id}(${f.kind})`).join(",")}]`;
  return {
    async read(nowMs): Promise<Prices> {
      const dpnPrice = await dpn.round(nowMs);
      const computePrice = await compute.round(nowMs);
      return {
        dpnPriceUsd: dpnPrice.value,
        computePriceUsdPerCu: computePrice.value,
        source: `oracle:${describe(dpn)},${describe(compute)}`,
        simulated: dpn.simulated || compute.simulated,
        dpn: quality(dpn, dpnPrice),
        compute: quality(compute, computePrice),
      };
    },
  };
}
