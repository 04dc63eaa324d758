/**
 * Reconnection delays: exponential, capped, with "equal jitter" — half of each delay is fixed,
 * half random — so a node restart is not met by every device reconnecting in the same instant,
 * yet no device retries in a tight loop. Randomness is passed in (a seeded generator in tests).
 */
export interface BackoffPolicy {
  /** Ceiling of the first delay. */
  readonly initialMs: number;
  /** Ceiling of every delay. */
  readonly maxMs: number;
  readonly factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2 };

/**
 * The delay before reconnection attempt `attempt` (0 for the first retry): uniform in
 * [cap/2, cap) where cap = min(maxMs, initialMs · factor^attempt). `random` returns [0, 1).
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponent = Math.max(0, Math.floor(attempt));
  // Capping the exponent keeps factor^exponent finite for any attempt count.
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.min(exponent, 64));
  const unit = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(cap / 2 + unit * (cap / 2));
}
