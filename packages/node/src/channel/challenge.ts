import { randomBytes } from "node:crypto";
import { DEFAULT_COST_MODEL, DpnError } from "@dpn/protocol";

/**
 * The capability benchmark (docs/protocol.md §Devices): a fresh random seed and a number of
 * SHA-256 iterations. The device returns the final digest and the time it took. The node checks
 * the digest by recomputation and measures the time itself, from sending the challenge to
 * receiving the answer: that bound cannot be shortened by lying, and the fresh seed rules out
 * precomputation. A device claiming to have been faster than the node saw is refused.
 */
export interface Challenge {
  readonly challengeId: string;
  readonly seed: string;
  readonly iterations: number;
  readonly sentAtMs: number;
}

/** 0.5 CU: about 0.4 s on a reference core, short enough not to delay joining. */
export const CHALLENGE_ITERATIONS = 250_000;
/** A device that takes longer than this to answer is not worth scheduling. */
export const CHALLENGE_TIMEOUT_MS = 60_000;
/** The device's own timing may exceed the node's by scheduling noise only. */
const TIMING_TOLERANCE_MS = 50;

export function newChallenge(nowMs: number, iterations = CHALLENGE_ITERATIONS): Challenge {
  return {
    challengeId: randomBytes(8).toString("hex"),
    seed: randomBytes(32).toString("hex"),
    iterations,
    sentAtMs: nowMs,
  };
}

/** Measured capability in CU/s, after the digest was checked. */
export function measuredCapability(
  challenge: Challenge,
  claimedElapsedMs: number,
  answeredAtMs: number,
): number {
  const observedMs = Math.max(1, answeredAtMs - challenge.sentAtMs);
  if (observedMs > CHALLENGE_TIMEOUT_MS) {
    throw new DpnError("DEVICE_CHALLENGE_TIMEOUT", "The capability benchmark took too long.", {
      hint: "Run the agent on a device that is not overloaded.",
    });
  }
  if (claimedElapsedMs > observedMs + TIMING_TOLERANCE_MS) {
    throw new DpnError(
      "DEVICE_CHALLENGE_IMPLAUSIBLE",
      "The benchmark's reported time exceeds the time the node observed.",
      {
        hint: "Report the real elapsed time of the benchmark.",
        details: { claimedElapsedMs, observedMs },
      },
    );
  }
  return challenge.iterations / DEFAULT_COST_MODEL.hashesPerCu / (observedMs / 1000);
}
