import { scrypt } from "node:crypto";
import { type Challenge, laneSeed, memoryProbeParams, memoryProbeSalt } from "@dpn/wire";
import type { ExecutorPool } from "./executors/pool.ts";

/**
 * The capability challenge (docs/protocol.md §Devices): every lane on the pool's threads at once,
 * so the node measures the cores this device offers, and the memory probe on Node's scrypt (its
 * own thread pool) beside them. The elapsed time covers all of it, as the node's clock does.
 */
export async function solveChallenge(
  pool: ExecutorPool,
  challenge: Challenge,
): Promise<{ digests: string[]; memoryDigest?: string; elapsedMs: number }> {
  const started = performance.now();
  const lanes = Array.from({ length: challenge.lanes }, (_, lane) =>
    pool
      .run({ type: "hash", seed: laneSeed(challenge.seed, lane), iterations: challenge.iterations })
      .then(({ output }) => (output as { digest: string }).digest),
  );
  const memory =
    challenge.memoryMiB === 0 ? undefined : nativeMemoryProbe(challenge.seed, challenge.memoryMiB);
  const [digests, memoryDigest] = await Promise.all([Promise.all(lanes), memory]);
  return {
    digests,
    ...(memoryDigest === undefined ? {} : { memoryDigest }),
    elapsedMs: performance.now() - started,
  };
}

/** The memory probe on Node's scrypt: the same bytes as @dpn/wire's `memoryProbe`, natively. */
function nativeMemoryProbe(seedHex: string, memoryMiB: number): Promise<string> {
  const { N, r, p } = memoryProbeParams(memoryMiB);
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(seedHex, "hex"),
      memoryProbeSalt(),
      32,
      { N, r, p, maxmem: 128 * N * r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key.toString("hex"))),
    );
  });
}
