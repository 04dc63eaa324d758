/**
 * A token bucket: `capacity` tokens, refilled at `perSec` a second of the injected clock. The
 * device channel gives every socket one for frames and one for refused frames, and every address
 * one for new sockets; `take` is O(1) and allocates nothing, so spending a budget costs less than
 * the cheapest frame it refuses.
 */
export class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly capacity: number,
    private readonly perSec: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.atMs = nowMs;
  }

  /** Takes one token if there is one. */
  take(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.atMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSec) / 1000);
    this.atMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Full again (nothing spent for long enough): the bucket can be forgotten. */
  full(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.atMs);
    return this.tokens + (elapsed * this.perSec) / 1000 >= this.capacity;
  }
}
