import { DpnError } from "@dpn/protocol";
import { MAX_CLOCK_SKEW_MS } from "./envelope.ts";

/**
 * Rejects a message seen before (docs/protocol.md §Messages). A nonce is remembered until its
 * message expires; after that the envelope's expiry check rejects it anyway. Messages issued
 * before the receiver started are refused by `open` (notBeforeMs), so a restart, which empties
 * this memory, does not reopen old messages to replay.
 */
export const ENVELOPE_REPLAYED = "ENVELOPE_REPLAYED";
/** Bounds memory: ~100 bytes per entry. Beyond it the guard refuses new messages (fail closed). */
export const MAX_REMEMBERED_NONCES = 1_000_000;

export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private nextSweepMs = 0;

  /** Records the message, or throws ENVELOPE_REPLAYED if it was seen. */
  check(from: string, nonce: string, expiresAtMs: number, nowMs: number): void {
    if (nowMs >= this.nextSweepMs) this.sweep(nowMs);
    const key = `${from}:${nonce}`;
    if (this.seen.has(key)) {
      throw new DpnError(ENVELOPE_REPLAYED, "This message was already received.", {
        hint: "Every message needs a fresh nonce; the SDK makes one for each message.",
      });
    }
    if (this.seen.size >= MAX_REMEMBERED_NONCES) {
      throw new DpnError("NODE_OVERLOADED", "Too many messages in flight; try again shortly.", {
        hint: "Retry after a few seconds.",
      });
    }
    this.seen.set(key, expiresAtMs + MAX_CLOCK_SKEW_MS);
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(nowMs: number): void {
    for (const [key, forgetAtMs] of this.seen) if (forgetAtMs < nowMs) this.seen.delete(key);
    this.nextSweepMs = nowMs + 10_000;
  }
}
