import type { EventEmitter } from "node:events";
import type { Ledger } from "@dpn/ledger";
import type { ProtocolParams } from "@dpn/protocol";
import type { SpecOf, TaskTypeName } from "@dpn/wire";
import type { ArtifactStore } from "./artifactStore.ts";
import type { ReserveBuyback } from "./economics/buyback.ts";
import type { EconomicsSnapshot, RateService } from "./economics/rateService.ts";
import type { ReserveDesk } from "./economics/reserve.ts";
import type { EpochSealer } from "./epochs/sealer.ts";
import type { JobLifecycle } from "./jobs/lifecycle.ts";
import type { Kinds } from "./kinds/registry.ts";
import { MAX_CACHED_SPECS } from "./limits.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import type { Settlement } from "./settlement/settlement.ts";
import type { NodeStore } from "./store/open.ts";
import type { JobRow } from "./store/schema.ts";
import type { VerifyPool } from "./verify/pool.ts";

export type Log = (level: "info" | "warn", message: string, data?: Record<string, unknown>) => void;

/**
 * What the node's three parts share (docs/protocol.md §Node): the job lifecycle (jobs/), the
 * scheduler (scheduler/) and settlement (settlement/), each reached through this object so no
 * part holds another's state. The facade (bank.ts) builds it and wires the parts in.
 */
export interface Core {
  readonly store: NodeStore;
  readonly ledger: Ledger;
  readonly artifacts: ArtifactStore;
  readonly rates: RateService;
  readonly reserve: ReserveDesk | undefined;
  readonly buyback: ReserveBuyback | undefined;
  readonly verifyPool: VerifyPool;
  readonly params: ProtocolParams;
  readonly now: () => number;
  readonly log: Log;
  /** How long a device has to return a task before it moves elsewhere. */
  readonly leaseMs: number;
  /** One device's verifications in flight at once (MAX_VERIFICATIONS_PER_DEVICE). */
  readonly verificationsPerDevice: number;
  /** "job" with a job id whenever a job's state or progress changes. */
  readonly events: EventEmitter;
  readonly specs: SpecCache;
  /** Sealed ledger epochs: the last one's root goes into each new job's assignment seed. */
  readonly epochs: EpochSealer;
  kinds: Kinds;
  jobs: JobLifecycle;
  scheduler: Scheduler;
  settlement: Settlement;
  /** The rate and burn decision in force (recomputed once per epoch). */
  economics(): Promise<EconomicsSnapshot>;
}

/** Parsed job specs, so a lease or a verification does not re-parse a large job each time. */
export class SpecCache {
  private readonly specs = new Map<string, unknown>();

  of<T extends TaskTypeName>(job: JobRow): SpecOf<T> {
    let spec = this.specs.get(job.id);
    if (spec === undefined) {
      // Written by this node after validation against the wire schema at submission.
      spec = JSON.parse(job.spec_json) as unknown;
      if (this.specs.size >= MAX_CACHED_SPECS) this.specs.clear();
      this.specs.set(job.id, spec);
    }
    return spec as SpecOf<T>;
  }
}
