import { createReadStream } from "node:fs";
import type { Ledger, MarketResult } from "@dpn/ledger";
import { accountIn, checkUserAccountId, MARKET_ACCOUNTS, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import { DpnError, formatDpn, parseDpn } from "@dpn/protocol";
import {
  DpnAmount,
  FINAL_JOB_STATES,
  JobCancel,
  JobSubmit,
  MarketLiquidity,
  MarketSwap,
  ReplayGuard,
  Sha256Hex,
  type SignaturePolicy,
  SwapSideName,
  Transfer,
} from "@dpn/wire";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { balanceOf, ownerAccount } from "../accounts.ts";
import type { ArtifactStore } from "../artifactStore.ts";
import type { Bank } from "../bank.ts";
import type { Market } from "../economics/market.ts";
import { jsonSafe } from "../json.ts";
import * as devices from "../store/devices.ts";
import * as jobs from "../store/jobs.ts";
import type { NodeStore } from "../store/open.ts";
import * as records from "../store/records.ts";
import type { OpenApi } from "./openapi.ts";
import { readSigned, SignedRequest } from "./signedRequest.ts";

export interface RouteDeps {
  readonly bank: Bank;
  readonly ledger: Ledger;
  readonly store: NodeStore;
  readonly artifacts: ArtifactStore;
  readonly openapi: OpenApi;
  readonly now: () => number;
  readonly startedAtMs: number;
  readonly policy: SignaturePolicy;
  readonly nodeInfo: () => Record<string, unknown>;
  readonly market: Market;
}

/** A market posting's effect on the caller, as decimal strings (shares in base units). */
function marketChanges(result: MarketResult): { dpn: string; stable: string; shares: string } {
  const signed = (v: bigint): string => (v < 0n ? `-${formatDpn(-v)}` : formatDpn(v));
  return {
    dpn: signed(result.dpn),
    stable: signed(result.stable),
    shares: result.shares.toString(),
  };
}

const ArtifactPut = z.strictObject({ sha256: Sha256Hex, bytes: z.number().int().positive() });
const AccountParam = z.strictObject({ id: z.string().regex(/^dpn_[0-9a-f]{40}$/, "a DPN id") });
const JobParam = z.strictObject({ id: z.string().max(64) });
/** `?limit=` of the listing endpoints: 1 to 1,000, default per endpoint. */
const LimitQuery = z.strictObject({ limit: z.optional(z.coerce.number().int().min(1).max(1000)) });
const HistoryQuery = z.strictObject({
  cursor: z.optional(z.string().max(64)),
  limit: z.optional(z.coerce.number().int().min(1).max(1000)),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new DpnError(
    "MESSAGE_INVALID",
    `Invalid ${what}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim(),
    {
      hint: "Check the request against /openapi.json.",
    },
  );
}

/** The HTTP API: node, artifacts, jobs, accounts, ledger and economics. */
export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const replay = new ReplayGuard();
  const signed = () => ({
    nowMs: deps.now(),
    startedAtMs: deps.startedAtMs,
    policy: deps.policy,
    replay,
  });
  const { openapi } = deps;

  openapi.add({
    method: "get",
    path: "/v1/node",
    summary: "The node's identity (public keys), version and parameters.",
  });
  app.get("/v1/node", async () => deps.nodeInfo());

  openapi.add({ method: "get", path: "/openapi.json", summary: "This document." });
  app.get("/openapi.json", async () => openapi.document("0.1.0"));

  // ---- artifacts
  openapi.add({
    method: "put",
    path: "/v1/artifacts/:sha256",
    summary:
      "Upload a content-addressed artifact (raw bytes). Header x-dpn-request: a signed artifact.put request as JSON.",
    rawBody: "application/octet-stream",
    signedPayload: { kind: "artifact.put", schema: ArtifactPut },
  });
  app.put("/v1/artifacts/:sha256", async (request, reply) => {
    const { sha256 } = parse(
      z.strictObject({ sha256: Sha256Hex }),
      request.params,
      "artifact path",
    );
    const header = request.headers["x-dpn-request"];
    if (typeof header !== "string") {
      throw new DpnError("MESSAGE_INVALID", "The x-dpn-request header is missing.", {
        hint: "Send a signed artifact.put request ({ envelope, keys }) as JSON in the x-dpn-request header.",
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(header);
    } catch {
      throw new DpnError("MESSAGE_INVALID", "The x-dpn-request header is not JSON.", {
        hint: "Send { envelope, keys } as JSON.",
      });
    }
    const { sender, body } = readSigned(raw, "artifact.put", ArtifactPut, signed());
    if (
      body.sha256 !== sha256 ||
      !(request.body instanceof Buffer) ||
      body.bytes !== request.body.length
    ) {
      throw new DpnError(
        "ARTIFACT_HASH_MISMATCH",
        "The signed hash or size does not match the upload.",
        {
          hint: "Sign the SHA-256 and byte length of exactly the bytes you send.",
        },
      );
    }
    deps.artifacts.put(request.body, sha256);
    await records.recordArtifact(deps.store.db, sha256, request.body.length, sender, deps.now());
    reply.code(201);
    return { sha256, bytes: request.body.length };
  });

  openapi.add({
    method: "get",
    path: "/v1/artifacts/:sha256",
    summary: "Download an artifact by its SHA-256.",
  });
  app.get("/v1/artifacts/:sha256", async (request, reply) => {
    const { sha256 } = parse(
      z.strictObject({ sha256: Sha256Hex }),
      request.params,
      "artifact path",
    );
    if (!deps.artifacts.has(sha256)) {
      throw new DpnError("ARTIFACT_NOT_FOUND", `Artifact ${sha256} is not stored here.`, {
        hint: "Upload it first.",
      });
    }
    reply.header("content-type", "application/octet-stream");
    reply.header("cache-control", "public, max-age=31536000, immutable");
    return reply.send(createReadStream(deps.artifacts.path(sha256)));
  });

  // ---- jobs
  openapi.add({
    method: "post",
    path: "/v1/jobs",
    summary: "Submit a job.",
    body: SignedRequest,
    signedPayload: { kind: "job.submit", schema: JobSubmit },
  });
  app.post("/v1/jobs", async (request, reply) => {
    const { sender, body } = readSigned(request.body, "job.submit", JobSubmit, signed());
    reply.code(201);
    return deps.bank.submitJob(sender, body);
  });
  openapi.add({ method: "get", path: "/v1/jobs", summary: "Recent jobs." });
  app.get("/v1/jobs", async () => ({
    jobs: await Promise.all(
      (await jobs.recentJobs(deps.store.db, 100)).map((j) => deps.bank.jobView(j.id)),
    ),
  }));
  openapi.add({
    method: "get",
    path: "/v1/jobs/:id",
    summary: "A job's state, fragments, devices and spend.",
  });
  app.get("/v1/jobs/:id", async (request) =>
    deps.bank.jobView(parse(JobParam, request.params, "job id").id),
  );
  openapi.add({
    method: "get",
    path: "/v1/jobs/:id/result",
    summary: "The outputs of a job's finished fragments, in item order.",
  });
  app.get("/v1/jobs/:id/result", async (request) =>
    deps.bank.jobResult(parse(JobParam, request.params, "job id").id),
  );
  openapi.add({
    method: "post",
    path: "/v1/jobs/:id/cancel",
    summary: "Cancel a job and release its unspent budget.",
    body: SignedRequest,
    signedPayload: { kind: "job.cancel", schema: JobCancel },
  });
  openapi.add({
    method: "get",
    path: "/v1/jobs/:id/events",
    summary:
      "Server-sent events: `event: job` with the job's view now and on every change of state or progress; the stream ends when the job does.",
  });
  app.get("/v1/jobs/:id/events", async (request, reply) => {
    const { id } = parse(JobParam, request.params, "job id");
    const first = await deps.bank.jobView(id); // an unknown job is a JSON 404 before the stream starts
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    let last = "";
    const send = (view: unknown): void => {
      const data = JSON.stringify(jsonSafe(view));
      if (data === last) return;
      last = data;
      raw.write(`event: job\ndata: ${data}\n\n`);
    };
    const heartbeat = setInterval(() => raw.write(": keep-alive\n\n"), 15_000);
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(heartbeat);
      deps.bank.jobEvents.off("job", onChange);
      raw.end();
    };
    // Views are read one at a time, in order, so a stream never sends an older view last.
    let reading = Promise.resolve();
    const onChange = (jobId: string): void => {
      if (jobId !== id) return;
      reading = reading
        .then(async () => {
          if (stopped) return;
          const view = await deps.bank.jobView(id);
          send(view);
          if (FINAL_JOB_STATES.has(view.state)) stop();
        })
        .catch(() => stop());
    };
    send(first);
    if (FINAL_JOB_STATES.has(first.state)) {
      stop();
      return;
    }
    deps.bank.jobEvents.on("job", onChange);
    request.raw.once("close", stop);
  });

  app.post("/v1/jobs/:id/cancel", async (request) => {
    const { id } = parse(JobParam, request.params, "job id");
    const { sender, body } = readSigned(request.body, "job.cancel", JobCancel, signed());
    if (body.jobId !== id)
      throw new DpnError("MESSAGE_INVALID", "The signed job id differs from the path.", {
        hint: "Sign the id of the job you cancel.",
      });
    return deps.bank.cancelJob(sender, id);
  });

  // ---- accounts
  openapi.add({
    method: "get",
    path: "/v1/accounts/:id",
    summary: "An account's balances: DPN, stable units and AMM pool shares (base units).",
  });
  app.get("/v1/accounts/:id", async (request) => {
    const { id } = parse(AccountParam, request.params, "account id");
    checkUserAccountId("account", ownerAccount(id));
    const of = async (account: string): Promise<string> =>
      formatDpn((await deps.ledger.account(account))?.balance ?? 0n);
    const holds = await deps.ledger.openHolds(ownerAccount(id));
    const held = holds.reduce((sum, h) => sum + h.amount, 0n);
    return {
      id,
      balance: formatDpn(await balanceOf(deps.ledger, id)),
      held: formatDpn(held),
      openHolds: holds.length,
      stable: await of(accountIn("USD", ownerAccount(id))),
      poolShares: (
        (await deps.ledger.account(accountIn("LP", ownerAccount(id))))?.balance ?? 0n
      ).toString(),
    };
  });
  openapi.add({
    method: "get",
    path: "/v1/accounts/:id/history",
    summary: "An account's postings, newest first, paginated by cursor.",
  });
  app.get("/v1/accounts/:id/history", async (request) => {
    const { id } = parse(AccountParam, request.params, "account id");
    const query = parse(HistoryQuery, request.query, "history query");
    const page = await deps.ledger.history(`owner:${id}`, {
      cursor: query.cursor ?? null,
      ...(query.limit === undefined ? {} : { limit: query.limit }),
    });
    return {
      entries: page.entries.map((e) => ({
        ...e,
        amount: formatDpn(e.amount),
        balanceAfter: formatDpn(e.balanceAfter),
      })),
      nextCursor: page.nextCursor,
    };
  });
  openapi.add({
    method: "post",
    path: "/v1/transfers",
    summary: "Transfer DPN to another account.",
    body: SignedRequest,
    signedPayload: { kind: "transfer", schema: Transfer },
  });
  app.post("/v1/transfers", async (request) => {
    const { sender, body } = readSigned(request.body, "transfer", Transfer, signed());
    await deps.ledger.openAccount(ownerAccount(body.to));
    const posting = await deps.ledger.transfer({
      idempotencyKey: `transfer:${sender}:${body.clientRef}`,
      from: `owner:${sender}`,
      to: `owner:${body.to}`,
      amount: parseDpn(body.amount),
    });
    return { seq: posting.seq, from: sender, to: body.to, amount: body.amount };
  });

  // ---- market (§4.5, §4.3)
  openapi.add({
    method: "get",
    path: "/v1/market/pool",
    summary: "The AMM pool: reserves, shares, spot price and one-hour TWAP (stable units per DPN).",
  });
  app.get("/v1/market/pool", async () => deps.market.poolView(deps.now()));
  openapi.add({
    method: "get",
    path: "/v1/market/quote",
    summary: "What a swap would pay now (?side=sell-dpn|buy-dpn&amount=12.5), without trading.",
  });
  app.get("/v1/market/quote", async (request) => {
    const query = parse(
      z.strictObject({ side: SwapSideName, amount: DpnAmount }),
      request.query,
      "quote query",
    );
    const quote = await deps.ledger.quoteSwap(query.side, parseDpn(query.amount));
    return {
      side: quote.side,
      amountIn: formatDpn(quote.amountIn),
      amountOut: formatDpn(quote.amountOut),
      fee: formatDpn(quote.fee),
      priceImpact: quote.priceImpact,
      executionPrice: quote.executionPrice,
      spotPriceBefore: formatDpn(quote.spotPriceBefore),
      spotPriceAfter: formatDpn(quote.spotPriceAfter),
    };
  });
  openapi.add({
    method: "post",
    path: "/v1/market/swaps",
    summary:
      "Swap DPN for stable units or back through the pool; refused beyond the slippage guard (0.7% unless widened).",
    body: SignedRequest,
    signedPayload: { kind: "market.swap", schema: MarketSwap },
  });
  app.post("/v1/market/swaps", async (request) => {
    const { sender, body } = readSigned(request.body, "market.swap", MarketSwap, signed());
    const trade = await deps.ledger.swap({
      idempotencyKey: `swap:${sender}:${body.clientRef}`,
      trader: ownerAccount(sender),
      side: body.side,
      amountIn: parseDpn(body.amountIn),
      ...(body.maxSlippageBps === undefined ? {} : { maxSlippageBps: body.maxSlippageBps }),
      ...(body.minAmountOut === undefined ? {} : { minAmountOut: parseDpn(body.minAmountOut) }),
    });
    return { seq: trade.posting.seq, ...marketChanges(trade) };
  });
  openapi.add({
    method: "post",
    path: "/v1/market/liquidity",
    summary: "Add both tokens to the pool for shares, or burn shares for both tokens.",
    body: SignedRequest,
    signedPayload: { kind: "market.liquidity", schema: MarketLiquidity },
  });
  app.post("/v1/market/liquidity", async (request) => {
    const { sender, body } = readSigned(
      request.body,
      "market.liquidity",
      MarketLiquidity,
      signed(),
    );
    const idempotencyKey = `liquidity:${sender}:${body.clientRef}`;
    const provider = ownerAccount(sender);
    const result =
      body.action === "add"
        ? await deps.ledger.addLiquidity({
            idempotencyKey,
            provider,
            dpnAmount: parseDpn(body.dpnAmount),
            stableAmount: parseDpn(body.stableAmount),
          })
        : await deps.ledger.removeLiquidity({
            idempotencyKey,
            provider,
            shares: BigInt(body.shares),
          });
    return { seq: result.posting.seq, ...marketChanges(result) };
  });
  openapi.add({
    method: "get",
    path: "/v1/market/reserve",
    summary:
      "The reserve's holdings and its anti-decoupling decisions, newest first (?limit, default 100).",
  });
  app.get("/v1/market/reserve", async (request) => {
    const { limit } = parse(LimitQuery, request.query, "reserve query");
    return {
      dpn: formatDpn(await deps.ledger.balance(SYSTEM_ACCOUNTS.reservePool)),
      stable: formatDpn(await deps.ledger.balance(MARKET_ACCOUNTS.reserveStable)),
      operations: await records.reserveOperations(deps.store.db, limit ?? 100),
    };
  });

  // ---- ledger, economics, devices
  openapi.add({
    method: "get",
    path: "/v1/ledger/verify",
    summary: "Audit the ledger's invariants.",
  });
  app.get("/v1/ledger/verify", async () => jsonSafe(await deps.ledger.verify()));
  openapi.add({
    method: "get",
    path: "/v1/ledger/supply",
    summary: "Supply: issued, burned, outstanding, pools.",
  });
  app.get("/v1/ledger/supply", async () => jsonSafe(await deps.ledger.supply()));
  openapi.add({
    method: "get",
    path: "/v1/economics/rate",
    summary: "The exchange rate in force, its inputs and the burn decision.",
  });
  app.get("/v1/economics/rate", async () => jsonSafe(await deps.bank.economics()));
  openapi.add({
    method: "get",
    path: "/v1/economics/rates",
    summary: "The recorded epochs of the exchange rate, newest first (?limit, default 100).",
  });
  app.get("/v1/economics/rates", async (request) => {
    const { limit } = parse(LimitQuery, request.query, "rates query");
    const rows = await records.rates(deps.store.db, limit ?? 100);
    return { epochs: rows.map((r) => JSON.parse(r.json) as unknown) };
  });
  openapi.add({
    method: "get",
    path: "/v1/economics/oracle",
    summary:
      "The DPN/USD oracle's recent rounds: published value, median, fallbacks, live and rejected feeds.",
  });
  app.get("/v1/economics/oracle", async (request) => {
    const { limit } = parse(LimitQuery, request.query, "oracle query");
    return { rounds: await records.oracleRounds(deps.store.db, "dpn-usd", limit ?? 100) };
  });
  openapi.add({
    method: "get",
    path: "/v1/economics/supply",
    summary: "Supply: issued, burned, outstanding, pools and circulation as of the last epoch.",
  });
  app.get("/v1/economics/supply", async () => {
    const economics = await deps.bank.economics();
    return jsonSafe({ ...(await deps.ledger.supply()), circulation: economics.inputs.circulation });
  });
  openapi.add({
    method: "get",
    path: "/v1/devices",
    summary: "Registered devices, their class, layer, reputation and earnings.",
  });
  app.get("/v1/devices", async () => ({
    devices: (await devices.devices(deps.store.db)).map((d) => ({
      deviceId: d.id,
      owner: d.owner,
      deviceClass: d.device_class,
      declaredClass: d.declared_class,
      layer: d.layer,
      longTail: d.long_tail === 1,
      geohash: d.geohash,
      cuPerSec: d.cu_per_sec,
      reputation: d.reputation,
      accepted: d.accepted,
      rejected: d.rejected,
      earned: formatDpn(BigInt(d.earned)),
      ...deps.bank.deviceDecay(d),
      online: deps.bank.sessions.has(d.id),
      standby: deps.bank.sessions.get(d.id)?.standby ?? false,
    })),
  }));
}
