import type { LeaseOf, TASK_WIRES, TaskTypeName } from "@dpn/wire";
import type { z } from "zod";
import type { ArtifactCache, ArtifactHandle } from "../artifactCache.ts";
import type { ArtifactUpload } from "../artifactUpload.ts";
import type { ExecutorPool } from "./pool.ts";

/**
 * How a device runs one task kind (docs/protocol.md §Task kinds): the lease in (its items already
 * checked against the kind's wire schema), one output per item out. The registry (registry.ts)
 * has an executor for every kind, so a kind without one does not compile.
 */
export interface Executor<T extends TaskTypeName> {
  readonly type: T;
  /**
   * Whether this device can run the kind, and what it advertises for it (the kind's capability,
   * e.g. the renderer's version): undefined when it cannot, and the kind is then not offered.
   * Absent: the kind always runs here and needs nothing but its name.
   */
  readonly probe?: () => Promise<Capability<T> | undefined>;
  run(lease: LeaseOf<T>, context: ExecutorContext, signal: AbortSignal): Promise<unknown[]>;
}

/** What a device advertises for kind T (`{}` for kinds that take no capability). */
export type Capability<T extends TaskTypeName> =
  (typeof TASK_WIRES)[T]["capability"] extends z.ZodType
    ? z.infer<NonNullable<(typeof TASK_WIRES)[T]["capability"]>>
    : Record<string, never>;

export interface ExecutorContext {
  /** Worker threads for CPU-bound items (never the event loop). */
  readonly pool: ExecutorPool;
  readonly cache: ArtifactCache;
  /** Artifacts pinned for the lease; released when it ends. */
  readonly handles: ArtifactHandle[];
  /** Stores output too large for a result frame at the node (a tile's PNG), by content hash. */
  readonly upload: ArtifactUpload;
  /** Whose privacy budget a DP release is charged to (agents in one process keep apart). */
  readonly deviceId: string;
  /** Where the device keeps its privacy account across restarts (default: memory only). */
  readonly stateDir?: string;
}
