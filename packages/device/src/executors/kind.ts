import type { LeaseOf, TaskTypeName } from "@dpn/wire";
import type { ArtifactCache, ArtifactHandle } from "../artifactCache.ts";
import type { ExecutorPool } from "./pool.ts";

/**
 * How a device runs one task kind (docs/protocol.md §Task kinds): the lease in (its items already
 * checked against the kind's wire schema), one output per item out. The registry (registry.ts)
 * has an executor for every kind, so a kind without one does not compile.
 */
export interface Executor<T extends TaskTypeName> {
  readonly type: T;
  run(lease: LeaseOf<T>, context: ExecutorContext, signal: AbortSignal): Promise<unknown[]>;
}

export interface ExecutorContext {
  /** Worker threads for CPU-bound items (never the event loop). */
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
  /** Artifacts pinned for the lease; released when it ends. */
  readonly handles: ArtifactHandle[];
  /** Whose privacy budget a DP release is charged to (agents in one process keep apart). */
  readonly deviceId: string;
  /** Where the device keeps its privacy account across restarts (default: memory only). */
  readonly stateDir?: string;
}
