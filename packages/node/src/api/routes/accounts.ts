import { accountIn, checkUserAccountId } from "@dpn/ledger";
import { DpnError, formatDpn, parseDpn } from "@dpn/protocol";
import { AccountId, AccountResponse, HistoryResponse, Transfer, TransferResponse } from "@dpn/wire";
import { z } from "zod";
import { balanceOf, ledgerKey, ownerAccount } from "../../accounts.ts";
import { type ApiPlugin, answers } from "../context.ts";
import { readSigned, SignedRequest } from "../signedRequest.ts";

const AccountParams = z.strictObject({ id: AccountId });
/** `?limit=` 1 to 1,000 (the ledger's page bound); the ledger's default page when absent. */
const HistoryQuery = z.strictObject({
  cursor: z.optional(z.string().max(64)),
  limit: z.optional(z.coerce.number().int().min(1).max(1000)),
});

/** Accounts: balances, history and transfers. */
export const accountRoutes: ApiPlugin = async (app, context) => {
  const { ledger } = context;

  app.get(
    "/v1/accounts/:id",
    {
      schema: {
        summary: "An account's balances: DPN, stable units and AMM pool shares (base units).",
        params: AccountParams,
        response: answers({ 200: AccountResponse }),
      },
    },
    async (request) => {
      const { id } = request.params;
      checkUserAccountId("account", ownerAccount(id));
      const of = async (account: string): Promise<string> =>
        formatDpn((await ledger.account(account))?.balance ?? 0n);
      const holds = await ledger.openHolds(ownerAccount(id));
      const held = holds.reduce((sum, h) => sum + h.amount, 0n);
      return {
        id,
        balance: formatDpn(await balanceOf(ledger, id)),
        held: formatDpn(held),
        openHolds: holds.length,
        stable: await of(accountIn("USD", ownerAccount(id))),
        poolShares: (
          (await ledger.account(accountIn("LP", ownerAccount(id))))?.balance ?? 0n
        ).toString(),
      };
    },
  );

  app.get(
    "/v1/accounts/:id/history",
    {
      schema: {
        summary: "An account's postings, newest first, paginated by cursor.",
        params: AccountParams,
        querystring: HistoryQuery,
        response: answers({ 200: HistoryResponse }),
      },
    },
    async (request) => {
      const { id } = request.params;
      const { cursor, limit } = request.query;
      const page = await ledger.history(`owner:${id}`, {
        cursor: cursor ?? null,
        ...(limit === undefined ? {} : { limit }),
      });
      return {
        entries: page.entries.map((e) => ({
          ...e,
          amount: formatDpn(e.amount),
          balanceAfter: formatDpn(e.balanceAfter),
        })),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.post(
    "/v1/transfers",
    {
      schema: {
        summary: "Transfer DPN to another account.",
        body: SignedRequest,
        signedPayload: { kind: "transfer", schema: Transfer },
        response: answers({ 200: TransferResponse }),
      },
    },
    async (request) => {
      const { sender, body } = readSigned(request.body, "transfer", Transfer, context.signed());
      const amount = parseDpn(body.amount);
      const minimum = context.params.requests.minTransferUnits;
      if (amount < minimum) {
        throw new DpnError(
          "TRANSFER_TOO_SMALL",
          `A transfer must move at least ${formatDpn(minimum)} DPN.`,
          {
            hint: `Send ${formatDpn(minimum)} DPN or more (requests.minTransferUnits).`,
            details: { amount: body.amount, minimum: formatDpn(minimum) },
          },
        );
      }
      await ledger.openAccount(ownerAccount(body.to));
      const posting = await ledger.transfer({
        idempotencyKey: ledgerKey("transfer", sender, body.clientRef),
        from: `owner:${sender}`,
        to: `owner:${body.to}`,
        amount,
      });
      return { seq: posting.seq, from: sender, to: body.to, amount: body.amount };
    },
  );
};
