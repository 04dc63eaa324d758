import { DpnError, isDpnError } from "@dpn/protocol";
import { LedgerVerifyResponse, SealedEpochResponse, SupplyResponse } from "@dpn/wire";
import { z } from "zod";
import { jsonSafe } from "../../json.ts";
import { type ApiPlugin, answers } from "../context.ts";

const EpochParams = z.strictObject({
  epoch: z.coerce
    .number()
    .int()
    .positive()
    .max(2 ** 31),
});

/** The ledger's audit, supply and sealed epochs, in base units. */
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
  app.get(
    "/v1/ledger/epochs/:epoch",
    {
      schema: {
        summary:
          "A sealed epoch: the Merkle root of every balance, when it was sealed and the last posting it includes (public: what a job's assignment seed draws from).",
        params: EpochParams,
        response: answers({ 200: SealedEpochResponse }),
      },
    },
    async (request) => {
      const { epoch } = request.params;
      try {
        return await ledger.snapshotOf(epoch);
      } catch (error) {
        if (!isDpnError(error) || error.code !== "LEDGER_UNKNOWN_SNAPSHOT") throw error;
        throw new DpnError("EPOCH_NOT_SEALED", `The ledger has sealed no epoch ${epoch}.`, {
          hint: "Epochs are sealed one at a time from 1, one every ledger epoch interval.",
          details: { epoch },
        });
      }
    },
  );
};
