import { MARKET_ACCOUNTS, type MarketResult, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import { formatDpn, parseDpn } from "@dpn/protocol";
import {
  DpnAmount,
  MarketChangeResponse,
  MarketLiquidity,
  MarketSwap,
  PoolResponse,
  QuoteResponse,
  ReserveResponse,
  SwapSideName,
} from "@dpn/wire";
import { z } from "zod";
import { ledgerKey, ownerAccount } from "../../accounts.ts";
import * as records from "../../store/records.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { readSigned, SignedRequest } from "../signedRequest.ts";
import { DEFAULT_LIMIT, LimitQuery } from "./limitQuery.ts";

const QuoteQuery = z.strictObject({ side: SwapSideName, amount: DpnAmount });

/** A market posting's effect on the caller, as decimal strings (shares in base units). */
function marketChanges(result: MarketResult): { dpn: string; stable: string; shares: string } {
  const signed = (v: bigint): string => (v < 0n ? `-${formatDpn(-v)}` : formatDpn(v));
  return {
    dpn: signed(result.dpn),
    stable: signed(result.stable),
    shares: result.shares.toString(),
  };
}

/** The market (§4.5) and the reserve's anti-decoupling desk (§4.3). */
export const marketRoutes: ApiPlugin = async (app, context) => {
  const { ledger } = context;

  app.get(
    "/v1/market/pool",
    {
      schema: {
        summary:
          "The AMM pool: reserves, shares, spot price and one-hour TWAP (stable units per DPN).",
        response: answers({ 200: PoolResponse }),
      },
    },
    async () => context.market.poolView(context.now()),
  );

  app.get(
    "/v1/market/quote",
    {
      schema: {
        summary: "What a swap would pay now (?side=sell-dpn|buy-dpn&amount=12.5), without trading.",
        querystring: QuoteQuery,
        response: answers({ 200: QuoteResponse }),
      },
    },
    async (request) => {
      const quote = await ledger.quoteSwap(request.query.side, parseDpn(request.query.amount));
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
    },
  );

  app.post(
    "/v1/market/swaps",
    {
      schema: {
        summary:
          "Swap DPN for stable units or back through the pool; refused beyond the slippage guard (0.7% unless widened).",
        body: SignedRequest,
        signedPayload: { kind: "market.swap", schema: MarketSwap },
        response: answers({ 200: MarketChangeResponse }),
      },
    },
    async (request) => {
      const { sender, body } = readSigned(
        request.body,
        "market.swap",
        MarketSwap,
        context.signed(),
      );
      context.market.checkSlippage(body.maxSlippageBps);
      const trade = await ledger.swap({
        idempotencyKey: ledgerKey("swap", sender, body.clientRef),
        trader: ownerAccount(sender),
        side: body.side,
        amountIn: parseDpn(body.amountIn),
        ...(body.maxSlippageBps === undefined ? {} : { maxSlippageBps: body.maxSlippageBps }),
        ...(body.minAmountOut === undefined ? {} : { minAmountOut: parseDpn(body.minAmountOut) }),
      });
      return { seq: trade.posting.seq, ...marketChanges(trade) };
    },
  );

  app.post(
    "/v1/market/liquidity",
    {
      schema: {
        summary: "Add both tokens to the pool for shares, or burn shares for both tokens.",
        body: SignedRequest,
        signedPayload: { kind: "market.liquidity", schema: MarketLiquidity },
        response: answers({ 200: MarketChangeResponse }),
      },
    },
    async (request) => {
      const { sender, body } = readSigned(
        request.body,
        "market.liquidity",
        MarketLiquidity,
        context.signed(),
      );
      const idempotencyKey = ledgerKey("liquidity", sender, body.clientRef);
      const provider = ownerAccount(sender);
      const result =
        body.action === "add"
          ? await ledger.addLiquidity({
              idempotencyKey,
              provider,
              dpnAmount: parseDpn(body.dpnAmount),
              stableAmount: parseDpn(body.stableAmount),
            })
          : await ledger.removeLiquidity({
              idempotencyKey,
              provider,
              shares: BigInt(body.shares),
            });
      return { seq: result.posting.seq, ...marketChanges(result) };
    },
  );

  app.get(
    "/v1/market/reserve",
    {
      schema: {
        summary:
          "The reserve's holdings, its anti-decoupling decisions and its interest buybacks, newest first (?limit, default 100).",
        querystring: LimitQuery,
        response: answers({ 200: ReserveResponse }),
      },
    },
    async (request) => ({
      dpn: formatDpn(await ledger.balance(SYSTEM_ACCOUNTS.reservePool)),
      stable: formatDpn(await ledger.balance(MARKET_ACCOUNTS.reserveStable)),
      shares: ((await ledger.account(MARKET_ACCOUNTS.reserveShares))?.balance ?? 0n).toString(),
      operations: await records.reserveOperations(
        context.store.db,
        request.query.limit ?? DEFAULT_LIMIT,
      ),
      buybacks: await records.reserveInterest(
        context.store.db,
        request.query.limit ?? DEFAULT_LIMIT,
      ),
    }),
  );
};
