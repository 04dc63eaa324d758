import {
  EconomicsSupplyResponse,
  OracleResponse,
  RateEpochResponse,
  RatesResponse,
} from "@dpn/wire";
import { jsonSafe } from "../../json.ts";
import * as records from "../../store/records.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { DEFAULT_LIMIT, LimitQuery } from "./limitQuery.ts";

/** The exchange rate, its history, the oracle and the supply (docs/protocol.md §Exchange rate). */
export const economicsRoutes: ApiPlugin = async (app, { bank, ledger, store }) => {
  app.get(
    "/v1/economics/rate",
    {
      schema: {
        summary: "The exchange rate in force, its inputs and the burn decision.",
        response: answers({ 200: RateEpochResponse }),
      },
    },
    async () => jsonSafe(await bank.economics()),
  );

  app.get(
    "/v1/economics/rates",
    {
      schema: {
        summary: "The recorded epochs of the exchange rate, newest first (?limit, default 100).",
        querystring: LimitQuery,
        response: answers({ 200: RatesResponse }),
      },
    },
    async (request) => {
      const rows = await records.rates(store.db, request.query.limit ?? DEFAULT_LIMIT);
      // Each row is the JSON of the epoch's snapshot (rateService.ts), the answer of /rate.
      return { epochs: rows.map((r) => JSON.parse(r.json) as RateEpochResponse) };
    },
  );

  app.get(
    "/v1/economics/oracle",
    {
      schema: {
        summary:
          "The DPN/USD oracle's recent rounds: published value, median, fallbacks, live and rejected feeds.",
        querystring: LimitQuery,
        response: answers({ 200: OracleResponse }),
      },
    },
    async (request) => ({
      rounds: await records.oracleRounds(store.db, "dpn-usd", request.query.limit ?? DEFAULT_LIMIT),
    }),
  );

  app.get(
    "/v1/economics/supply",
    {
      schema: {
        summary: "Supply: issued, burned, outstanding, pools and circulation as of the last epoch.",
        response: answers({ 200: EconomicsSupplyResponse }),
      },
    },
    async () => {
      const economics = await bank.economics();
      return jsonSafe({ ...(await ledger.supply()), circulation: economics.inputs.circulation });
    },
  );
};
