import { z } from "zod";
import { AccountId, DpnAmount } from "../schemas.ts";
import { BaseUnits, SignedDpnAmount } from "./common.ts";

/** GET /v1/accounts/{id}: balances as decimal strings; pool shares in base units. */
export const AccountResponse = z.strictObject({
  id: AccountId,
  /** Spendable DPN (holds excluded). */
  balance: DpnAmount,
  /** DPN held for open jobs. */
  held: DpnAmount,
  openHolds: z.number().int().nonnegative(),
  stable: DpnAmount,
  poolShares: BaseUnits,
});
export type AccountResponse = z.infer<typeof AccountResponse>;

/** One posting as it touched the account: the signed change and the balance after it. */
export const HistoryEntryResponse = z.strictObject({
  seq: z.number().int(),
  atMs: z.number(),
  /** The ledger's posting kind (transfer, capturePayment, swap, …). */
  kind: z.string(),
  idempotencyKey: z.string(),
  amount: SignedDpnAmount,
  balanceAfter: SignedDpnAmount,
});

/** GET /v1/accounts/{id}/history: newest first; pass nextCursor back for older entries. */
export const HistoryResponse = z.strictObject({
  entries: z.array(HistoryEntryResponse),
  nextCursor: z.string().nullable(),
});
export type HistoryResponse = z.infer<typeof HistoryResponse>;

/** POST /v1/transfers: the posting's sequence number and what moved. */
export const TransferResponse = z.strictObject({
  seq: z.number().int(),
  from: AccountId,
  to: AccountId,
  amount: DpnAmount,
});
export type TransferResponse = z.infer<typeof TransferResponse>;
