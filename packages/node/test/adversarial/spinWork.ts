import { existsSync } from "node:fs";

/**
 * A verify-pool work module that never yields: it spins on the CPU until `releaseFile` exists
 * (never, without one), as a recomputation too large for its budget would. Busy, not waiting,
 * so only killing its process can stop it. With `crash`, its process exits instead.
 */
export interface SpinRequest {
  readonly releaseFile?: string;
  readonly crash?: boolean;
}

export async function work(request: SpinRequest): Promise<string[]> {
  if (request.crash === true) process.exit(1);
  for (;;) {
    if (request.releaseFile !== undefined && existsSync(request.releaseFile)) return [];
  }
}

export const SPIN_WORK = new URL(import.meta.url);
