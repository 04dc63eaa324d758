import { type Ledger, SYSTEM_ACCOUNTS } from "@dpn/ledger";
import { isDpnError } from "@dpn/protocol";

/**
 * Recycling of burned supply (docs/protocol.md §Supply, §4.1): once per epoch, `recycleBps` of
 * the DPN burned since the last replenishment goes back into the emission pool, never past the
 * cap on outstanding supply. Without it the pool (55M DPN) empties once and devices stop being
 * paid while requesters' spending is still burned. Idempotent per epoch; the ledger's burn mark
 * makes a second call in the same epoch, or after a restart, re-issue nothing twice. Returns the
 * amount re-issued (0 when nothing was burned or recycling is governed to 0).
 */
export async function recycleBurns(
  ledger: Ledger,
  recycleBps: bigint,
  epochAtMs: number,
): Promise<bigint> {
  if (recycleBps <= 0n) return 0n;
  try {
    const posting = await ledger.replenishEmission({
      idempotencyKey: `recycle:${epochAtMs}`,
      recycleBps,
      nowMs: epochAtMs,
    });
    const pool = posting.entries.find((e) => e.account === SYSTEM_ACCOUNTS.emissionPool);
    return pool?.amount ?? 0n;
  } catch (error) {
    if (isDpnError(error) && error.code === "LEDGER_NOTHING_TO_REPLENISH") return 0n;
    throw error;
  }
}
