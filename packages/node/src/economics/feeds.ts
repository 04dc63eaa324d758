import { DpnError, dpnToNumber, type FeedReading, seededRng } from "@dpn/protocol";
import type { Db } from "../store/open.ts";
import { clearedSince } from "../store/tasks.ts";
import type { Market } from "./market.ts";

/**
 * Price feeds for the oracles (docs/protocol.md §Oracles, §3.3). Each feed reports one number
 * with the time it was observed, in its oracle's unit (USD per DPN, or USD per CU). Adapters:
 *
 * - `http-json`: a JSON document over HTTP (a public price API, a relay of an on-chain oracle),
 *   the price found at a path of keys in it;
 * - `reference`: a constant the operator configured, labelled as such: not a market reading;
 * - `amm-twap` (DPN/USD only): the node's own AMM pool, one-hour TWAP;
 * - `clearing` (compute only): what requesters actually paid per CU in this bank over the last
 *   hour, converted to USD at the DPN/USD price in force;
 * - `simulated`: a seeded random walk for the embedded demo. Its kind says so everywhere a feed
 *   is shown, and no simulated feed is named after a real oracle.
 */
export type FeedKind = "http-json" | "reference" | "simulated" | "amm-twap" | "clearing";

export interface Feed {
  readonly id: string;
  readonly kind: FeedKind;
  read(nowMs: number): Promise<FeedReading>;
}

export type FeedConfig =
  | {
      readonly kind: "http-json";
      readonly id: string;
      readonly url: string;
      readonly path: readonly string[];
      /** Default FEED_TIMEOUT_MS. */
      readonly timeoutMs?: number;
    }
  | { readonly kind: "reference"; readonly id: string; readonly value: number }
  | { readonly kind: "amm-twap"; readonly id: string }
  | {
      readonly kind: "clearing";
      readonly id: string;
      /** Tasks settled this long ago or less count (default CLEARING_WINDOW_MS). */
      readonly windowMs?: number;
    }
  | {
      readonly kind: "simulated";
      readonly id: string;
      readonly seed: string;
      readonly start: number;
      readonly volatilityPerHour: number;
    };

/** The two oracles a node runs, and the feed kinds each accepts. */
export type OracleName = "dpn-usd" | "compute-usd";

export const FEED_KINDS_OF: Readonly<Record<OracleName, readonly FeedKind[]>> = {
  // The AMM trades DPN, so it prices DPN; it says nothing about the price of compute.
  "dpn-usd": ["http-json", "reference", "simulated", "amm-twap"],
  // Cleared jobs price compute; they carry no DPN/USD information of their own.
  "compute-usd": ["http-json", "reference", "simulated", "clearing"],
};

/** A feed that does not answer within this is treated as down for the round. */
export const FEED_TIMEOUT_MS = 5_000;
/** A longer configured timeout would hold the epoch's rate computation back that long. */
export const MAX_FEED_TIMEOUT_MS = 30_000;
/** Bounds the document an HTTP feed may return: a price document is a few hundred bytes. */
export const MAX_FEED_BYTES = 64 * 1024;
/** The clearing feed's window: one hour, the oracles' staleness limit (a heartbeat). */
export const CLEARING_WINDOW_MS = 3_600_000;
/** At most this many settled tasks are read per round, newest first: bounds the round's work. */
export const MAX_CLEARING_TASKS = 10_000;

/** What some feeds read: the node's AMM pool, its tasks, and the DPN/USD price in force. */
export interface FeedContext {
  readonly market: Market;
  readonly db: Db;
  /** The DPN/USD oracle's value in force, if it has one (the clearing feed converts with it). */
  readonly dpnPriceUsd: () => number | undefined;
}

export function isSimulated(feed: { readonly kind: FeedKind }): boolean {
  return feed.kind === "simulated";
}

/**
 * Builds a feed of `oracle` from its configuration; an unknown kind, a kind the oracle does not
 * take or a bad field is a coded error.
 */
export function createFeed(config: FeedConfig, context: FeedContext, oracle: OracleName): Feed {
  const kinds = FEED_KINDS_OF[oracle];
  const kind = (config as { kind?: unknown }).kind;
  if (!(kinds as readonly unknown[]).includes(kind)) {
    throw new DpnError(
      "ORACLE_FEED_UNKNOWN",
      `The ${oracle} oracle takes no feed of kind ${JSON.stringify(kind)}.`,
      {
        hint: `Configure ${oracle} feeds of kind ${kinds.join(", ")}.`,
        details: { id: (config as { id?: unknown }).id ?? null },
      },
    );
  }
  const invalid = (message: string, hint: string) =>
    new DpnError("ORACLE_FEED_INVALID", message, { hint, details: { id: config.id } });
  if (typeof config.id !== "string" || !/^[a-z0-9._-]{1,64}$/.test(config.id)) {
    throw invalid(
      `Feed id ${JSON.stringify(config.id)} is not valid.`,
      "Name feeds with 1 to 64 lower-case letters, digits, dots, dashes or underscores.",
    );
  }
  switch (config.kind) {
    case "amm-twap":
      return ammTwapFeed(config.id, context.market);
    case "http-json": {
      if (typeof config.url !== "string" || !/^https?:\/\//.test(config.url)) {
        throw invalid(
          `Feed ${config.id} needs an http(s) URL.`,
          "Give the JSON document's URL and the path of keys to the price in it.",
        );
      }
      if (!Array.isArray(config.path) || !config.path.every((key) => typeof key === "string")) {
        throw invalid(
          `Feed ${config.id} needs a path: a list of keys into the document.`,
          'For {"data":{"price":"0.15"}} the path is ["data","price"]; [] for a bare number.',
        );
      }
      const timeoutMs = config.timeoutMs ?? FEED_TIMEOUT_MS;
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_FEED_TIMEOUT_MS) {
        throw invalid(
          `Feed ${config.id}: timeoutMs must be a whole number from 1 to ${MAX_FEED_TIMEOUT_MS}.`,
          "A feed slower than that holds the epoch's rate back; leave it out for 5 s.",
        );
      }
      return httpJsonFeed(config.id, config.url, config.path, timeoutMs);
    }
    case "reference":
      if (
        typeof config.value !== "number" ||
        !(Number.isFinite(config.value) && config.value > 0)
      ) {
        throw invalid(
          `Feed ${config.id} needs a positive value.`,
          "A reference feed publishes the constant it is configured with, in its oracle's unit.",
        );
      }
      return referenceFeed(config.id, config.value);
    case "clearing": {
      const windowMs = config.windowMs ?? CLEARING_WINDOW_MS;
      if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
        throw invalid(
          `Feed ${config.id}: windowMs must be a positive whole number of milliseconds.`,
          "Leave it out for one hour, the oracles' staleness limit.",
        );
      }
      return clearingFeed(config.id, windowMs, context);
    }
    case "simulated":
      if (
        typeof config.seed !== "string" ||
        !(Number.isFinite(config.start) && config.start > 0) ||
        !(Number.isFinite(config.volatilityPerHour) && config.volatilityPerHour >= 0)
      ) {
        throw invalid(
          `Feed ${config.id} needs a seed, a positive start and a volatilityPerHour ≥ 0.`,
          "A simulated feed is a seeded random walk from start.",
        );
      }
      return randomWalkFeed(config.id, config.seed, config.start, config.volatilityPerHour);
  }
}

/**
 * Reads `url` within `timeoutMs`, follows `path` into the JSON document; the value there must be
 * a positive number (or a decimal string of one). Each way of failing has its own code, which the
 * round records as the feed's rejection reason.
 */
export function httpJsonFeed(
  id: string,
  url: string,
  path: readonly string[],
  timeoutMs = FEED_TIMEOUT_MS,
): Feed {
  const fail = (code: Parameters<typeof feedError>[0], message: string) =>
    feedError(code, `Feed ${id} (${url}): ${message}`);
  return {
    id,
    kind: "http-json",
    async read(nowMs) {
      let text: string;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) {
          await response.body?.cancel();
          throw fail("ORACLE_FEED_HTTP_STATUS", `answered HTTP ${response.status}.`);
        }
        text = await boundedText(response, () =>
          fail("ORACLE_FEED_TOO_LARGE", `the document is larger than ${MAX_FEED_BYTES} bytes.`),
        );
      } catch (error) {
        if (error instanceof DpnError) throw error;
        const name = (error as { name?: unknown }).name;
        if (name === "TimeoutError" || name === "AbortError") {
          throw fail("ORACLE_FEED_TIMEOUT", `no answer within ${timeoutMs} ms.`);
        }
        throw fail("ORACLE_FEED_UNREACHABLE", `${(error as Error).message}.`);
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw fail("ORACLE_FEED_NOT_JSON", "the answer is not JSON.");
      }
      for (const key of path)
        value =
          typeof value === "object" && value !== null && Object.hasOwn(value, key)
            ? (value as Record<string, unknown>)[key]
            : undefined;
      const number =
        typeof value === "string" && /^\s*[0-9.eE+-]+\s*$/.test(value) ? Number(value) : value;
      if (typeof number !== "number" || !Number.isFinite(number) || number <= 0) {
        throw fail(
          "ORACLE_FEED_NO_VALUE",
          `no positive number at ${JSON.stringify(path)} (found ${JSON.stringify(value) ?? "nothing"}).`,
        );
      }
      return { feedId: id, value: number, observedAtMs: nowMs };
    },
  };
}

/** The body as text, failing as soon as it passes MAX_FEED_BYTES (never buffering more). */
async function boundedText(response: Response, tooLarge: () => DpnError): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > MAX_FEED_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    if (bytes > MAX_FEED_BYTES) {
      await response.body.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

type FeedErrorCode =
  | "ORACLE_FEED_FAILED"
  | "ORACLE_FEED_HTTP_STATUS"
  | "ORACLE_FEED_TOO_LARGE"
  | "ORACLE_FEED_NOT_JSON"
  | "ORACLE_FEED_NO_VALUE"
  | "ORACLE_FEED_TIMEOUT"
  | "ORACLE_FEED_UNREACHABLE"
  | "ORACLE_FEED_NO_CLEARING";

function feedError(code: FeedErrorCode, message: string): DpnError {
  return new DpnError(code, message, {
    hint: "The round goes on without this feed; see GET /v1/economics/prices.",
  });
}

/**
 * A configured constant (an operator's or a vote's reference price). It is always fresh, so it
 * is one vote of five and never a quorum alone; its kind says it is not a market reading.
 */
export function referenceFeed(id: string, value: number): Feed {
  return {
    id,
    kind: "reference",
    async read(nowMs) {
      return { feedId: id, value, observedAtMs: nowMs };
    },
  };
}

/**
 * The bank's own clearing price of compute: Σ price ÷ Σ CU of the tasks paid in the last
 * `windowMs` (what requesters were actually charged, DPN per CU, weighted by volume), times the
 * DPN/USD price in force. Observed at the newest settlement, so with a window longer than the
 * staleness limit an old clearing reads stale. No task paid in the window is a failure (no
 * trade, no price).
 */
export function clearingFeed(id: string, windowMs: number, context: FeedContext): Feed {
  return {
    id,
    kind: "clearing",
    async read(nowMs) {
      const cleared = await clearedSince(context.db, nowMs - windowMs, MAX_CLEARING_TASKS);
      if (cleared.cu <= 0 || cleared.newestMs === undefined) {
        throw feedError(
          "ORACLE_FEED_NO_CLEARING",
          `Feed ${id}: no task was paid in the last ${windowMs} ms.`,
        );
      }
      const dpnUsd = context.dpnPriceUsd();
      if (dpnUsd === undefined) {
        throw feedError("ORACLE_FEED_FAILED", `Feed ${id}: there is no DPN/USD price yet.`);
      }
      return {
        feedId: id,
        value: (dpnToNumber(cleared.priceWei) / cleared.cu) * dpnUsd,
        observedAtMs: cleared.newestMs,
      };
    },
  };
}

/**
 * A simulated market price: a geometric random walk with hourly steps, reverting 5% per hour
 * toward `start`, from a seeded generator, so the embedded demo has five moving feeds without
 * the network. Deterministic in (seed, time). Its kind is `simulated` wherever it is shown.
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
        throw feedError("ORACLE_FEED_FAILED", `Feed ${id}: the AMM pool has no liquidity.`);
      }
      return { feedId: id, value: dpnToNumber(price), observedAtMs: nowMs };
    },
  };
}

/** Three seeded walks: the embedded demo's stand-ins for external price services. */
function simulatedWalks(prefix: string, start: number, seed: string): FeedConfig[] {
  return [1, 2, 3].map((n) => ({
    kind: "simulated",
    id: `${prefix}-simulated-${n}`,
    seed,
    start,
    volatilityPerHour: 0.004,
  }));
}

/**
 * The default DPN/USD feeds of an embedded node: the AMM's one-hour TWAP, the anchor as a
 * reference, and three simulated walks around the anchor (labelled simulated).
 */
export function defaultDpnFeeds(anchorUsd: number, seed = "embedded"): FeedConfig[] {
  return [
    { kind: "amm-twap", id: "amm-twap" },
    ...simulatedWalks("dpn", anchorUsd, seed),
    { kind: "reference", id: "dpn-reference", value: anchorUsd },
  ];
}

/**
 * The reference compute price of the embedded demo, USD per CU: 0.043 USD per core-hour (a CU is
 * one reference core-second), the order of a cloud vCPU-hour. A configured figure, not a
 * measurement: its feed's kind says so.
 */
export const REFERENCE_COMPUTE_USD_PER_CU = 1.2e-5;

/**
 * The default compute-price feeds of an embedded node: the bank's clearing price, the reference
 * price, and three simulated walks around it (labelled simulated).
 */
export function defaultComputeFeeds(
  referenceUsdPerCu = REFERENCE_COMPUTE_USD_PER_CU,
  seed = "embedded",
): FeedConfig[] {
  return [
    { kind: "clearing", id: "clearing" },
    ...simulatedWalks("compute", referenceUsdPerCu, seed),
    { kind: "reference", id: "compute-reference", value: referenceUsdPerCu },
  ];
}
