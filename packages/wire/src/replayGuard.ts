import { DpnError } from "@dpn/protocol";
import { MAX_CLOCK_SKEW_MS } from "./envelope.ts";

/**
 * Rejects a message seen before (docs/protocol.md §Messages). A nonce is remembered until its
 * message expires; after that the envelope's expiry check rejects it anyway. The memory is lost
 * when the receiver restarts, so a receiver also refuses every message issued before it started
 * (checkIssuedSince): a restart does not reopen the messages its previous run saw.
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

/**
 * Refuses a message issued before `startedAtMs`, the receiver's start: its previous run may have
 * seen it, and the nonces of that run are gone. No clock-skew allowance here (open() allows
 * MAX_CLOCK_SKEW_MS elsewhere), because a message issued a second before a crash and replayed a
 * second after the restart is exactly the replay to stop; a sender whose clock is behind the
 * receiver's is refused only until its clock passes the receiver's start, and is told why.
 */
export function checkIssuedSince(issuedAtMs: number, startedAtMs: number): void {
  if (issuedAtMs < startedAtMs) {
    throw new DpnError(
      ENVELOPE_REPLAYED,
      "This message was issued before the receiver started; it may be a replay.",
      {
        hint: "Sign the request again (a fresh envelope); if it still fails, check that your clock is not behind.",
        details: { issuedAtMs, startedAtMs },
      },
    );
  }
}
