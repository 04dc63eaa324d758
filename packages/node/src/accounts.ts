import type { Ledger } from "@dpn/ledger";
import { isDpnError } from "@dpn/protocol";

/** The ledger account of a DPN identity (requesters and device owners alike). */
export function ownerAccount(id: string): string {
  return `owner:${id}`;
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
