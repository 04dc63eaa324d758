import { LedgerVerifyResponse, SupplyResponse } from "@dpn/wire";
import { jsonSafe } from "../../json.ts";
import { type ApiPlugin, answers } from "../context.ts";

/** The ledger's audit and supply, in base units. */
export const ledgerRoutes: ApiPlugin = async (app, { ledger }) => {
  app.get(
    "/v1/ledger/verify",
    {
      schema: {
        summary: "Audit the ledger's invariants.",
        response: answers({ 200: LedgerVerifyResponse }),
      },
    },
    async () => jsonSafe(await ledger.verify()),
  );
  app.get(
    "/v1/ledger/supply",
    {
      schema: {
        summary: "Supply: issued, burned, outstanding, pools.",
        response: answers({ 200: SupplyResponse }),
      },
    },
    async () => jsonSafe(await ledger.supply()),
  );
};
