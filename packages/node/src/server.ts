import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Ledger, openLedger, postgresStore, SYSTEM_ACCOUNTS, sqliteStore } from "@dpn/ledger";
import {
  DpnError,
  formatDpn,
  type ProtocolParams,
  parseDpn,
  resolveParams,
  TOTAL_SUPPLY_CAP,
} from "@dpn/protocol";
import { type Identity, newIdentity, type SignaturePolicy } from "@dpn/wire";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyInstance } from "fastify";
import { pino } from "pino";
import { handleErrors } from "./api/httpErrors.ts";
import { OpenApi } from "./api/openapi.ts";
import { registerApi } from "./api/routes/index.ts";
import { ArtifactStore, MAX_ARTIFACT_BYTES } from "./artifactStore.ts";
import { Bank } from "./bank.ts";
import type { ChannelLimits } from "./channel/admission.ts";
import { CHALLENGE_TIMEOUT_MS } from "./channel/challenge.ts";
import { DeviceChannel } from "./channel/deviceChannel.ts";
import { FingerprintSlots } from "./channel/fingerprints.ts";
import { ReserveBuyback } from "./economics/buyback.ts";
import {
  createFeed,
  defaultComputeFeeds,
  defaultDpnFeeds,
  type FeedConfig,
  type FeedContext,
  type OracleName,
} from "./economics/feeds.ts";
import { type FeedsConfig, feedsConfig } from "./economics/feedsFile.ts";
import { Market } from "./economics/market.ts";
import { Oracle, oraclePriceSource } from "./economics/oracle.ts";
import type { PriceSource } from "./economics/priceSource.ts";
import { RateService } from "./economics/rateService.ts";
import { ReserveDesk } from "./economics/reserve.ts";
import type { KindOverrides } from "./kinds/registry.ts";
import {
  HTTP_REQUESTS_PER_MINUTE,
  MAX_DEVICES_PER_FINGERPRINT,
  MAX_EVENT_STREAMS,
  MAX_VERIFICATIONS_PER_DEVICE,
} from "./limits.ts";
import { type NodeStore, openNodeStore } from "./store/open.ts";
import { VerifyPool } from "./verify/pool.ts";

/**
 * Starts a bank node: the ledger (SQLite in the data directory), the node store, the verifier
 * pool, the HTTP API and the device channel on one port (docs/protocol.md).
 */
export interface NodeOptions {
  readonly dataDir: string;
  /**
   * Where the ledger and the node's tables live: the embedded SQLite in dataDir (default), or a
   * PostgreSQL URL (postgres://…), with the ledger and the node in schemas of their own.
   */
  readonly store?: StoreChoice;
  readonly host?: string;
  /** 0 lets the OS choose (tests). */
  readonly port?: number;
  readonly identity?: Identity;
  /** Replaces the oracles entirely (tests). */
  readonly priceSource?: PriceSource;
  /**
   * The supply cap issued at genesis, in DPN (default §4.1's 100 million). Tests pass a small one
   * to exhaust the emission pool (55% of it) with a few tasks; the buckets keep their shares.
   */
  readonly supplyCap?: string;
  /**
   * The feeds of the DPN/USD and compute-price oracles, as in a `dpn node --feeds` file
   * (economics/feedsFile.ts). A section left out keeps the embedded demo's feeds: the AMM TWAP
   * (DPN) or the clearing price (compute), a reference value and three simulated walks.
   */
  readonly feeds?: FeedsConfig;
  /** Governed parameter overrides ("rate.msfPenalty": 0.25, …). */
  readonly params?: Readonly<Record<string, number>>;
  readonly leaseMs?: number;
  readonly epochMs?: number;
  /** How often a ledger epoch is sealed (default LEDGER_EPOCH_MS, an hour). */
  readonly ledgerEpochMs?: number;
  readonly verifyThreads?: number;
  /** Running time one verification may take (default VERIFY_BUDGET_MS; tests pass less). */
  readonly verifyBudgetMs?: number;
  /** One device's verifications in flight at once (default MAX_VERIFICATIONS_PER_DEVICE). */
  readonly verificationsPerDevice?: number;
  readonly policy?: SignaturePolicy;
  /** Operator grants at start: account id → DPN, transferred once from the liquidity pool. */
  readonly grants?: Readonly<Record<string, string>>;
  /**
   * Operator stable deposits at start: account id → stable units (USD), credited once each.
   * Stands in for bridged stablecoin deposits, which arrive with the EVM settlement.
   */
  readonly stableGrants?: Readonly<Record<string, string>>;
  /** How the AMM pool and the reserve's stable side are seeded at first start; false: not at all. */
  readonly market?: MarketSeed | false;
  readonly now?: () => number;
  /** pino level; "silent" for tests. */
  readonly logLevel?: string;
  /** Period of the lease and deadline sweep. */
  readonly sweepMs?: number;
  /** Kinds replacing the registry's for some types (tests: hold a verification, say). */
  readonly kinds?: KindOverrides;
  /** How often device sockets are pinged (default DEVICE_PING_MS). */
  readonly pingMs?: number;
  /** SHA-256 iterations of the devices' capability challenge (default CHALLENGE_ITERATIONS). */
  readonly challengeIterations?: number;
  /** The device channel's budgets and connection caps (defaults in limits.ts; tests pass less). */
  readonly channelLimits?: Partial<ChannelLimits>;
  /** The built web dashboard served at / (default: packages/dashboard/dist, if it was built). */
  readonly dashboardDir?: string;
  /**
   * Check every JSON answer against its published schema (a mismatch is a coded 500). Default:
   * on when NODE_ENV is "test" or "development", so tests catch a drifting response; off
   * otherwise, so production sends what it always sent without a second pass.
   */
  readonly validateResponses?: boolean;
  /** Job event streams open at once (default MAX_EVENT_STREAMS; tests lower it). */
  readonly maxEventStreams?: number;
  /** HTTP requests per address a minute (default HTTP_REQUESTS_PER_MINUTE; tests lower it). */
  readonly httpRequestsPerMinute?: number;
  /** Signed requests per account, burst and per second (default limits.ts; tests lower them). */
  readonly accountRequests?: { readonly burst: number; readonly perSec: number };
}

export type StoreChoice =
  | { readonly kind: "sqlite" }
  | {
      readonly kind: "postgres";
      readonly connectionString: string;
      /** Schema prefix: the ledger uses <prefix>_ledger, the node <prefix>_node. Default "dpn". */
      readonly schemaPrefix?: string;
    };

export interface MarketSeed {
  /** DPN moved from the liquidity allocation (§4.1) into the pool. */
  readonly poolDpn: string;
  /** Stable units deposited for the pool's other side; poolDpn × anchor keeps the anchor price. */
  readonly poolStable: string;
  /** Stable units deposited for the reserve, so it can buy DPN back below the anchor (§4.3). */
  readonly reserveStable: string;
  /**
   * The part of poolDpn the reserve provides from its own DPN, with the matching share of
   * poolStable deposited for it (default none). Its pool shares earn the swap fees that are its
   * interest, spent on buybacks in balance epochs (§4.2, economics/buyback.ts).
   */
  readonly reserveLiquidityDpn?: string;
}

/**
 * The embedded default: a 5M DPN pool against 750k stable (the 0.15 USD anchor), half of it from
 * the 10M DPN liquidity allocation (the rest stays for operator grants) and half from the reserve,
 * so that the reserve earns half of the pool's fees (docs/adr/0019-supply-and-reserve-interest.md);
 * and 1.5M stable for the reserve's anti-decoupling buys, the figure of the simulator's "reserve
 * seeded with 1.5M stable" scenario.
 */
export const DEFAULT_MARKET_SEED: MarketSeed = {
  poolDpn: "5000000",
  poolStable: "750000",
  reserveStable: "1500000",
  reserveLiquidityDpn: "2500000",
};

/** Where `npm run build:dashboard` puts the dashboard, next to this package in the workspace. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(
  new URL("../../dashboard/dist", import.meta.url),
);

export interface RunningNode {
  readonly url: string;
  readonly identity: Identity;
  readonly bank: Bank;
  readonly ledger: Ledger;
  readonly store: NodeStore;
  readonly app: FastifyInstance;
  /** The DPN/USD and compute-price oracles, with their feeds (docs/protocol.md §Oracles). */
  readonly oracles: readonly Oracle[];
  close(): Promise<void>;
}

export const NODE_VERSION = "0.1.0";

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const now = options.now ?? Date.now;
  const startedAtMs = now();
  const params: ProtocolParams = resolveParams(options.params ?? {});
  const identity = options.identity ?? newIdentity();
  const policy = options.policy ?? "hybrid";
  const logger = pino({ level: options.logLevel ?? "info" });
  const log = (level: "info" | "warn", message: string, data: Record<string, unknown> = {}): void =>
    logger[level](data, message);
  mkdirSync(options.dataDir, { recursive: true });

  const choice = options.store ?? { kind: "sqlite" };
  const prefix = choice.kind === "postgres" ? (choice.schemaPrefix ?? "dpn") : "";
  const ledger = await openLedger({
    store:
      choice.kind === "postgres"
        ? postgresStore({ connectionString: choice.connectionString, schema: `${prefix}_ledger` })
        : sqliteStore({ path: join(options.dataDir, "ledger.db") }),
    clock: now,
    amm: params.amm,
  });
  const store = await openNodeStore(
    choice.kind === "postgres"
      ? { kind: "postgres", connectionString: choice.connectionString, schema: `${prefix}_node` }
      : { kind: "sqlite", path: join(options.dataDir, "node.db") },
  );
  const artifacts = new ArtifactStore(options.dataDir);
  const verifyBudget =
    options.verifyBudgetMs === undefined ? {} : { budgetMs: options.verifyBudgetMs };
  const verifyPool = new VerifyPool({ processes: options.verifyThreads ?? 1, ...verifyBudget });
  // Registration challenges get a process of their own: a device flooding results can then fill
  // the result verifier's queue, and a new device's challenge still does not wait behind it.
  // Its budget is the challenge's own (an answer later than that is refused anyway).
  const challengePool = new VerifyPool({ processes: 1, budgetMs: CHALLENGE_TIMEOUT_MS });
  const market = new Market(ledger, {
    anchorPriceUsd: params.rate.basePriceUsdPerDpn,
    amm: params.amm,
  });
  const feeds = feedsConfig(options.feeds ?? {}, "startNode's feeds");
  const feedContext: FeedContext = {
    market,
    db: store.db,
    dpnPriceUsd: () => dpnOracle.current()?.value,
  };
  const oracleFeeds = (oracle: OracleName, configs: readonly FeedConfig[]) =>
    configs.map((feed) => createFeed(feed, feedContext, oracle));
  const dpnOracle: Oracle = new Oracle(
    "dpn-usd",
    "USD/DPN",
    oracleFeeds("dpn-usd", feeds.dpn ?? defaultDpnFeeds(params.rate.basePriceUsdPerDpn)),
    params.oracle,
    store,
  );
  const computeOracle = new Oracle(
    "compute-usd",
    "USD/CU",
    oracleFeeds("compute-usd", feeds.compute ?? defaultComputeFeeds()),
    params.oracle,
    store,
  );
  const rates = new RateService(
    ledger,
    store,
    options.priceSource ?? oraclePriceSource(dpnOracle, computeOracle),
    params,
    options.epochMs ?? 60_000,
  );
  const reserve = new ReserveDesk(ledger, store, {
    anchorPriceUsd: params.rate.basePriceUsdPerDpn,
    antiDecoupling: params.antiDecoupling,
    amm: params.amm,
  });
  const buyback = new ReserveBuyback(ledger, store, { amm: params.amm });
  const bank = new Bank({
    store,
    ledger,
    artifacts,
    rates,
    verifyPool,
    params,
    now,
    leaseMs: options.leaseMs ?? 120_000,
    verificationsPerDevice: options.verificationsPerDevice ?? MAX_VERIFICATIONS_PER_DEVICE,
    log,
    reserve,
    buyback,
    ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
    ...(options.ledgerEpochMs === undefined ? {} : { ledgerEpochMs: options.ledgerEpochMs }),
  });

  await ledger.genesis({
    idempotencyKey: "genesis",
    cap: options.supplyCap === undefined ? TOTAL_SUPPLY_CAP : parseDpn(options.supplyCap),
  });
  for (const [account, amount] of Object.entries(options.grants ?? {})) {
    await ledger.openAccount(`owner:${account}`);
    await ledger.transfer({
      idempotencyKey: `grant:${account}:${amount}`,
      from: SYSTEM_ACCOUNTS.liquidity,
      to: `owner:${account}`,
      amount: parseDpn(amount),
    });
  }
  for (const [account, amount] of Object.entries(options.stableGrants ?? {})) {
    await ledger.openAccount(`owner:${account}`);
    await ledger.depositStable({
      idempotencyKey: `stable-grant:${account}:${amount}`,
      to: `owner:${account}`,
      amount: parseDpn(amount),
      reference: `operator-grant:${account}:${amount}`,
    });
  }
  if (options.market !== false) await seedMarket(ledger, options.market ?? DEFAULT_MARKET_SEED);
  await bank.recover();

  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer", bodyLimit: MAX_ARTIFACT_BYTES },
    (_request, body, done) => done(null, body),
  );
  await app.register(rateLimit, {
    max: options.httpRequestsPerMinute ?? HTTP_REQUESTS_PER_MINUTE,
    timeWindow: 60_000,
    // A coded refusal that says when to come back (the plugin sets the retry-after header).
    errorResponseBuilder: (_request, context) =>
      new DpnError(
        "RATE_LIMITED",
        `More than ${context.max} requests a minute came from this address.`,
        {
          hint: `Retry in ${context.after} (the retry-after header); the SDK waits and retries by itself. Follow a job with its event stream rather than polling.`,
          details: { retryAfterSec: Math.ceil(context.ttl / 1000) },
        },
      ),
  });
  handleErrors(app, log);

  const openapi = new OpenApi(NODE_VERSION);
  // Shared by the device channel (which takes slots) and the API (whose owners release them).
  const fingerprints = new FingerprintSlots(MAX_DEVICES_PER_FINGERPRINT);
  const nodeInfo = () => ({
    id: identity.id,
    ed25519PublicKey: Buffer.from(identity.ed25519PublicKey).toString("base64"),
    mldsa44PublicKey: Buffer.from(identity.mldsa44PublicKey).toString("base64"),
    version: NODE_VERSION,
    signaturePolicy: policy,
    devicesOnline: bank.sessions.size,
  });
  const nodeEnv = process.env.NODE_ENV;
  await registerApi(
    app,
    {
      bank,
      ledger,
      store,
      artifacts,
      openapi,
      now,
      startedAtMs,
      params,
      policy,
      nodeInfo,
      market,
      oracles: [dpnOracle, computeOracle],
      fingerprints,
      maxEventStreams: options.maxEventStreams ?? MAX_EVENT_STREAMS,
      ...(options.accountRequests === undefined
        ? {}
        : { accountRequests: options.accountRequests }),
    },
    {
      validateResponses:
        options.validateResponses ?? (nodeEnv === "test" || nodeEnv === "development"),
    },
  );
  // The web dashboard: its files, with "/" answering index.html (pages use hash routes, so no
  // other fallback). Routes are made per file at start (wildcard: false), so /v1/* and
  // /openapi.json are untouched and an unknown path still gets the JSON 404.
  const dashboardDir = options.dashboardDir ?? DEFAULT_DASHBOARD_DIR;
  if (existsSync(join(dashboardDir, "index.html"))) {
    await app.register(fastifyStatic, { root: dashboardDir, prefix: "/", wildcard: false });
  }

  const channel = new DeviceChannel({
    bank,
    store,
    verifyPool: challengePool, // the channel verifies only challenges (see challengePool above)
    identity,
    params,
    now,
    startedAtMs,
    policy,
    log,
    fingerprints,
    ...(options.pingMs === undefined ? {} : { pingMs: options.pingMs }),
    ...(options.channelLimits === undefined ? {} : { limits: options.channelLimits }),
    ...(options.challengeIterations === undefined
      ? {}
      : { challengeIterations: options.challengeIterations }),
  });
  app.server.on("upgrade", (request, socket, head) => channel.handleUpgrade(request, socket, head));

  const address = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const sweep = setInterval(() => {
    bank.sweep().catch((error: unknown) => log("warn", "sweep failed", { error: String(error) }));
  }, options.sweepMs ?? 1_000);
  log("info", "node listening", { url: address, id: identity.id });

  return {
    url: address,
    identity,
    bank,
    ledger,
    store,
    app,
    oracles: [dpnOracle, computeOracle],
    async close() {
      clearInterval(sweep);
      bank.close();
      await channel.close();
      await app.close();
      await bank.idle();
      await verifyPool.close();
      await challengePool.close();
      await store.close();
      await ledger.close();
    },
  };
}

/**
 * Seeds the pool and the reserve's stable side once (every step is idempotent, so a restart
 * changes nothing). The stable units are operator deposits standing in for bridged stablecoins.
 */
async function seedMarket(ledger: Ledger, seed: MarketSeed): Promise<void> {
  const reference = (what: string, amount: string) => `market-seed:${what}:${amount}`;
  if ((await ledger.pool()).totalShares === 0n) {
    const poolDpn = parseDpn(seed.poolDpn);
    const poolStable = parseDpn(seed.poolStable);
    const reserveDpn = parseDpn(seed.reserveLiquidityDpn ?? "0");
    if (reserveDpn >= poolDpn) {
      throw new DpnError(
        "PROTOCOL_INVALID_INPUT",
        `The reserve's part of the pool (${seed.reserveLiquidityDpn} DPN) must be below the pool's ${seed.poolDpn} DPN.`,
        { hint: "The liquidity allocation makes the first deposit; give the reserve less." },
      );
    }
    // The stable side in the pool's proportion; the reserve's side takes the rounding, so the
    // two deposits sum to poolStable and the price is the seed's.
    const liquidityStable = (poolStable * (poolDpn - reserveDpn)) / poolDpn;
    const sides = [
      {
        provider: SYSTEM_ACCOUNTS.liquidity,
        what: "pool",
        dpn: poolDpn - reserveDpn,
        stable: liquidityStable,
      },
      {
        provider: SYSTEM_ACCOUNTS.reservePool,
        what: "reserve-liquidity",
        dpn: reserveDpn,
        stable: poolStable - liquidityStable,
      },
    ];
    for (const side of sides) {
      if (side.dpn === 0n) continue;
      const stable = formatDpn(side.stable);
      await ledger.depositStable({
        idempotencyKey: reference(side.what, stable),
        to: side.provider,
        amount: side.stable,
        reference: reference(side.what, stable),
      });
      await ledger.addLiquidity({
        idempotencyKey: reference(`${side.what}-shares`, `${formatDpn(side.dpn)}/${stable}`),
        provider: side.provider,
        dpnAmount: side.dpn,
        stableAmount: side.stable,
      });
    }
  }
  if (parseDpn(seed.reserveStable) > 0n) {
    await ledger.depositStable({
      idempotencyKey: reference("reserve", seed.reserveStable),
      to: SYSTEM_ACCOUNTS.reservePool,
      amount: parseDpn(seed.reserveStable),
      reference: reference("reserve", seed.reserveStable),
    });
  }
}
