import type { Ledger } from "@dpn/ledger";
import { isDpnError } from "@dpn/protocol";

/** The ledger account of a DPN identity (requesters and device owners alike). */
export function ownerAccount(id: string): string {
  return `owner:${id}`;
}

/** Ledger operations the node keys by the requester's own reference (its retries are no-ops). */
export type ReferencedOperation = "transfer" | "swap" | "liquidity";

/**
 * The ledger idempotency key of a requester's operation: one per (operation, requester,
 * clientRef). Within MAX_IDEMPOTENCY_KEY_LENGTH for every reference the schema admits
 * (MAX_CLIENT_REF_LENGTH; accounts.test.ts checks it).
 */
export function ledgerKey(
  operation: ReferencedOperation,
  sender: string,
  clientRef: string,
): string {
  return `${operation}:${sender}:${clientRef}`;
}

/** An identity that never received DPN has no ledger account yet: its balance is 0. */
export async function balanceOf(ledger: Ledger, id: string): Promise<bigint> {
  try {
    return await ledger.balance(ownerAccount(id));
  } catch (error) {
    if (isDpnError(error, "LEDGER_UNKNOWN_ACCOUNT")) return 0n;
    throw error;
  }
}
