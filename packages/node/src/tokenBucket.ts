/**
 * A token bucket: `capacity` tokens, refilled at `perSec` a second of the injected clock. The
 * device channel gives every socket one for frames and one for refused frames, and every address
 * one for new sockets; the API gives every signing account one (AccountLimiter). `take` is O(1)
 * and allocates nothing, so spending a budget costs less than the cheapest request it refuses.
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

  /** Seconds until one token is back (0 if there is one now). */
  waitSec(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.atMs);
    const tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSec) / 1000);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perSec);
  }

  /** Full again (nothing spent for long enough): the bucket can be forgotten. */
  full(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.atMs);
    return this.tokens + (elapsed * this.perSec) / 1000 >= this.capacity;
  }
}

/**
 * One bucket per key (an account), created full on first use. Keys are forgotten once their
 * bucket is full again, swept when the map reaches `maxKeys`: an identity costs nothing, so the
 * map must not grow with every identity ever seen.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity: number,
    private readonly perSec: number,
    private readonly maxKeys: number,
  ) {}

  /** Takes one token of `key`'s bucket; returns 0, or the seconds to wait when there is none. */
  take(key: string, nowMs: number): number {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.sweep(nowMs);
      bucket = new TokenBucket(this.capacity, this.perSec, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket.take(nowMs) ? 0 : Math.max(1, bucket.waitSec(nowMs));
  }

  private sweep(nowMs: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.full(nowMs)) this.buckets.delete(key);
    // Every bucket busy: start again rather than grow (each busy key gets a fresh burst).
    if (this.buckets.size >= this.maxKeys) this.buckets.clear();
  }
}
