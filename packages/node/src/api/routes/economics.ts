import {
  EconomicsSupplyResponse,
  OracleName,
  OracleResponse,
  PricesResponse,
  RateEpochResponse,
  RatesResponse,
} from "@dpn/wire";
import { z } from "zod";
import { jsonSafe } from "../../json.ts";
import * as records from "../../store/records.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { DEFAULT_LIMIT, LimitQuery } from "./limitQuery.ts";

const OracleQuery = LimitQuery.extend({ oracle: z.optional(OracleName) });

/** The exchange rate, its history, the oracle and the supply (docs/protocol.md §Exchange rate). */
export const economicsRoutes: ApiPlugin = async (app, { bank, ledger, store, oracles }) => {
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
          "One oracle's recent rounds (?oracle=dpn-usd, the default, or compute-usd): value in force, median, fallbacks, live and rejected feeds.",
        querystring: OracleQuery,
        response: answers({ 200: OracleResponse }),
      },
    },
    async (request) => ({
      rounds: await records.oracleRounds(
        store.db,
        request.query.oracle ?? "dpn-usd",
        request.query.limit ?? DEFAULT_LIMIT,
      ),
    }),
  );

  app.get(
    "/v1/economics/prices",
    {
      schema: {
        summary:
          "Both oracles as of the epoch in force: each price, whether it is held (stale) and how old, each feed's kind, and which are simulated.",
        response: answers({ 200: PricesResponse }),
      },
    },
    async () => {
      // The epoch's rounds run when the rate is computed; bring it up to date first.
      await bank.economics();
      const views = oracles.map((o) => o.view());
      return { simulated: views.some((v) => v.simulated), oracles: views };
    },
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
