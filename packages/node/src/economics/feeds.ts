import { DpnError, dpnToNumber, type FeedReading, seededRng } from "@dpn/protocol";
import type { Market } from "./market.ts";

/**
 * Price feeds for the oracle (docs/protocol.md §Oracles, §3.3). Each feed reports one number with
 * the time it was observed. Adapters: a JSON document over HTTP (any public price API or a
 * Chainlink-style relay), a governed value set by the operator or a vote, and a seeded random walk
 * for the embedded demo, whose id and kind say it is simulated.
 */
export interface Feed {
  readonly id: string;
  readonly kind: "http-json" | "governed" | "simulated" | "amm-twap";
  read(nowMs: number): Promise<FeedReading>;
}

export type FeedConfig =
  | {
      readonly kind: "http-json";
      readonly id: string;
      readonly url: string;
      readonly path: readonly string[];
    }
  | { readonly kind: "governed"; readonly id: string; readonly value: number }
  | { readonly kind: "amm-twap"; readonly id: string }
  | {
      readonly kind: "simulated";
      readonly id: string;
      readonly seed: string;
      readonly start: number;
      readonly volatilityPerHour: number;
    };

/** A feed that does not answer within this is treated as down for the round. */
export const FEED_TIMEOUT_MS = 5_000;
/** Bounds the document an HTTP feed may return. */
const MAX_FEED_BYTES = 64 * 1024;

/** What some feeds read: the node's own AMM pool. */
export interface FeedContext {
  readonly market: Market;
}

export const FEED_KINDS: readonly FeedConfig["kind"][] = [
  "http-json",
  "governed",
  "simulated",
  "amm-twap",
];

/** Builds a feed from its configuration; an unknown kind or a bad field is a coded error. */
export function createFeed(config: FeedConfig, context: FeedContext): Feed {
  const kind = (config as { kind?: unknown }).kind;
  if (!(FEED_KINDS as readonly unknown[]).includes(kind)) {
    throw new DpnError("ORACLE_FEED_UNKNOWN", `Unknown feed kind ${JSON.stringify(kind)}.`, {
      hint: `Configure feeds of kind ${FEED_KINDS.join(", ")}.`,
      details: { id: (config as { id?: unknown }).id ?? null },
    });
  }
  if (typeof config.id !== "string" || !/^[a-z0-9._-]{1,64}$/.test(config.id)) {
    throw new DpnError(
      "ORACLE_FEED_INVALID",
      `Feed id ${JSON.stringify(config.id)} is not valid.`,
      {
        hint: "Name feeds with 1 to 64 lower-case letters, digits, dots, dashes or underscores.",
      },
    );
  }
  if (config.kind === "http-json" && !/^https?:\/\//.test(config.url)) {
    throw new DpnError("ORACLE_FEED_INVALID", `Feed ${config.id} needs an http(s) URL.`, {
      hint: "Give the JSON document's URL and the path of keys to the price in it.",
    });
  }
  if (config.kind === "governed" && !(Number.isFinite(config.value) && config.value > 0)) {
    throw new DpnError("ORACLE_FEED_INVALID", `Feed ${config.id} needs a positive value.`, {
      hint: "A governed feed publishes the price governance set, in USD.",
    });
  }
  switch (config.kind) {
    case "amm-twap":
      return ammTwapFeed(config.id, context.market);
    case "http-json":
      return httpJsonFeed(config.id, config.url, config.path);
    case "governed":
      return governedFeed(config.id, config.value);
    case "simulated":
      return randomWalkFeed(config.id, config.seed, config.start, config.volatilityPerHour);
  }
}

/** Reads `url`, follows `path` into the JSON document; the value must be a positive number. */
export function httpJsonFeed(id: string, url: string, path: readonly string[]): Feed {
  return {
    id,
    kind: "http-json",
    async read(nowMs) {
      const response = await fetch(url, { signal: AbortSignal.timeout(FEED_TIMEOUT_MS) });
      const text = await response.text();
      if (!response.ok || text.length > MAX_FEED_BYTES) {
        throw new DpnError("ORACLE_FEED_FAILED", `Feed ${id} answered HTTP ${response.status}.`, {
          hint: "Check the feed's URL; the round goes on without it.",
        });
      }
      let value: unknown = JSON.parse(text);
      for (const key of path)
        value =
          typeof value === "object" && value !== null
            ? (value as Record<string, unknown>)[key]
            : undefined;
      const number = typeof value === "string" ? Number(value) : value;
      // An invalid number is passed on as NaN: aggregation rejects it as "invalid" and records why.
      return {
        feedId: id,
        value: typeof number === "number" ? number : Number.NaN,
        observedAtMs: nowMs,
      };
    },
  };
}

export interface GovernedFeed extends Feed {
  set(value: number, nowMs: number): void;
}

/** A value set by governance (or the operator before governance exists), timestamped when set. */
export function governedFeed(id: string, value: number): GovernedFeed {
  let current = value;
  let setAtMs: number | undefined;
  return {
    id,
    kind: "governed",
    async read(nowMs) {
      // A governed value is as fresh as the last decision; re-stamp it each round until changed.
      return { feedId: id, value: current, observedAtMs: setAtMs ?? nowMs };
    },
    set(next, nowMs) {
      current = next;
      setAtMs = nowMs;
    },
  };
}

/**
 * A simulated market price: a geometric random walk with hourly steps, reverting 5% per hour
 * toward `start`, from a seeded generator, so the embedded demo has five moving feeds without
 * the network. Deterministic in (seed, time).
 */
export function randomWalkFeed(
  id: string,
  seed: string,
  start: number,
  volatilityPerHour: number,
): Feed {
  const rng = seededRng(`feed:${id}:${seed}`);
  const HOUR = 3_600_000;
  let value = start;
  let atMs: number | undefined;
  return {
    id,
    kind: "simulated",
    async read(nowMs) {
      atMs ??= nowMs;
      while (atMs + HOUR <= nowMs) {
        // Box-Muller from two uniforms: one standard normal step.
        const u = Math.max(rng.nextFloat(), Number.MIN_VALUE);
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat());
        value = value * Math.exp(volatilityPerHour * z) * (start / value) ** 0.05;
        atMs += HOUR;
      }
      return { feedId: id, value, observedAtMs: nowMs };
    },
  };
}

/** The internal AMM's one-hour TWAP (market.ts); fails while the pool is empty. */
export function ammTwapFeed(id: string, market: Market): Feed {
  return {
    id,
    kind: "amm-twap",
    async read(nowMs) {
      const price = await market.twapPrice(nowMs);
      if (price === null) {
        throw new DpnError("ORACLE_FEED_FAILED", `Feed ${id}: the AMM pool has no liquidity.`, {
          hint: "Seed the pool; the round goes on without this feed.",
        });
      }
      return { feedId: id, value: dpnToNumber(price), observedAtMs: nowMs };
    },
  };
}

/**
 * The default DPN/USD feeds of an embedded node: the AMM's one-hour TWAP, a governed value and
 * three simulated walks standing in for external price services (their ids say so).
 */
export function defaultDpnFeeds(anchorUsd: number, seed = "embedded"): FeedConfig[] {
  return [
    { kind: "amm-twap", id: "amm-twap" },
    ...["sim-chainlink", "sim-pyth", "sim-band"].map(
      (id): FeedConfig => ({
        kind: "simulated",
        id,
        seed,
        start: anchorUsd,
        volatilityPerHour: 0.004,
      }),
    ),
    { kind: "governed", id: "governed", value: anchorUsd },
  ];
}
