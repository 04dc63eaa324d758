import { DpnError } from "@dpn/protocol";
import { MAX_CLOCK_SKEW_MS } from "../envelope.ts";
import { ENVELOPE_REPLAYED } from "../replayGuard.ts";
import { DEVICE_FRAME_FLOOD } from "./errors.ts";

/**
 * The replay guard of one session (replayGuard.ts's rule, as a value): a node frame's nonce is
 * remembered until the frame expires (plus the clock skew), after which the envelope's expiry
 * check refuses it anyway. The session machine is a pure function of its state, so this memory
 * is immutable: `remember` returns a new memory and leaves the old one as it was. The nonces
 * are spread over 256 buckets by their first byte (nonces are random: parseEnvelope checks 32
 * hex digits), so remembering one copies one small bucket, not the whole memory.
 */
export interface ReplayMemory {
  readonly buckets: readonly (ReadonlyMap<string, number> | undefined)[];
  readonly size: number;
  /** The next instant at which expired nonces are swept out. */
  readonly sweepAtMs: number;
}

/** One node sends to one device: far fewer frames than a node receives (MAX_REMEMBERED_NONCES). */
export const MAX_SESSION_NONCES = 100_000;
const BUCKETS = 256;
const SWEEP_EVERY_MS = 10_000;

export const EMPTY_REPLAY_MEMORY: ReplayMemory = {
  buckets: Array.from({ length: BUCKETS }, () => undefined),
  size: 0,
  sweepAtMs: 0,
};

function bucketOf(nonce: string): number {
  return Number.parseInt(nonce.slice(0, 2), 16) & (BUCKETS - 1);
}

export function replaySeen(memory: ReplayMemory, nonce: string): boolean {
  return memory.buckets[bucketOf(nonce)]?.has(nonce) === true;
}

/** Throws ENVELOPE_REPLAYED if the nonce was seen. */
export function checkNotReplayed(memory: ReplayMemory, nonce: string): void {
  if (replaySeen(memory, nonce)) {
    throw new DpnError(ENVELOPE_REPLAYED, "This message was already received.", {
      hint: "Every message needs a fresh nonce; the SDK makes one for each message.",
    });
  }
}

function sweep(memory: ReplayMemory, nowMs: number): ReplayMemory {
  let size = 0;
  const buckets = memory.buckets.map((bucket) => {
    if (bucket === undefined) return undefined;
    const kept = new Map<string, number>();
    for (const [nonce, forgetAtMs] of bucket) if (forgetAtMs >= nowMs) kept.set(nonce, forgetAtMs);
    size += kept.size;
    return kept.size === 0 ? undefined : kept;
  });
  return { buckets, size, sweepAtMs: nowMs + SWEEP_EVERY_MS };
}

/** The memory with `nonce` in it; throws if it was seen, or if the memory is full (fail closed). */
export function remember(
  memory: ReplayMemory,
  nonce: string,
  expiresAtMs: number,
  nowMs: number,
): ReplayMemory {
  checkNotReplayed(memory, nonce);
  const swept = nowMs >= memory.sweepAtMs ? sweep(memory, nowMs) : memory;
  if (swept.size >= MAX_SESSION_NONCES) {
    throw new DpnError(DEVICE_FRAME_FLOOD, "The node sent more frames than the device remembers.", {
      hint: "The node is faulty or hostile; frames are refused until the older ones expire.",
    });
  }
  const index = bucketOf(nonce);
  const bucket = new Map(swept.buckets[index]);
  bucket.set(nonce, expiresAtMs + MAX_CLOCK_SKEW_MS);
  const buckets = swept.buckets.slice();
  buckets[index] = bucket;
  return { buckets, size: swept.size + 1, sweepAtMs: swept.sweepAtMs };
}
