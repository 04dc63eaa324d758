import { EventEmitter } from "node:events";
import type { Ledger } from "@dpn/ledger";
import {
  advanceRun,
  type DeviceClass,
  decayFactor,
  formatDpn,
  operatingDays,
  type ProtocolParams,
} from "@dpn/protocol";
import type { JobResult, JobSubmit, JobView, TaskResult, TaskTypeName } from "@dpn/wire";
import { ownerAccount } from "./accounts.ts";
import type { ArtifactStore } from "./artifactStore.ts";
import { type Core, type Log, SpecCache } from "./core.ts";
import type { ReserveBuyback } from "./economics/buyback.ts";
import type { EconomicsSnapshot, RateService } from "./economics/rateService.ts";
import type { ReserveDesk } from "./economics/reserve.ts";
import { recycleBurns } from "./economics/supply.ts";
import { EpochSealer, type SealedEpoch } from "./epochs/sealer.ts";
import { JobLifecycle } from "./jobs/lifecycle.ts";
import { recover } from "./jobs/recovery.ts";
import type { SignedSubmission } from "./jobs/submit.ts";
import { jobResult, jobView } from "./jobs/views.ts";
import type { KindContext } from "./kinds/kind.ts";
import { createKinds, type KindOverrides, type Kinds } from "./kinds/registry.ts";
import { LEDGER_EPOCH_MS } from "./limits.ts";
import { leaseNeeds } from "./scheduler/leasedInputs.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import type { DeviceSession } from "./scheduler/session.ts";
import { applyCapacityDecision } from "./scheduler/standby.ts";
import { Sweeper } from "./scheduler/sweep.ts";
import { Settlement } from "./settlement/settlement.ts";
import * as devices from "./store/devices.ts";
import type { NodeStore } from "./store/open.ts";
import type { DeviceRow } from "./store/schema.ts";
import { openCu } from "./store/tasks.ts";
import type { VerifyPool } from "./verify/pool.ts";

export interface BankOptions {
  readonly store: NodeStore;
  readonly ledger: Ledger;
  readonly artifacts: ArtifactStore;
  readonly rates: RateService;
  readonly verifyPool: VerifyPool;
  readonly params: ProtocolParams;
  readonly now: () => number;
  /** How long a device has to return a task before it moves elsewhere. */
  readonly leaseMs: number;
  /** One device's verifications in flight at once (MAX_VERIFICATIONS_PER_DEVICE). */
  readonly verificationsPerDevice: number;
  /** The reserve's anti-decoupling desk, acting once per epoch (absent: the reserve is idle). */
  readonly reserve?: ReserveDesk;
  /** The reserve's interest and buyback, once per epoch (absent: no interest is counted). */
  readonly buyback?: ReserveBuyback;
  readonly log: Log;
  /** Kinds replacing the registry's for some types (tests). */
  readonly kinds?: KindOverrides;
  /** How often a ledger epoch is sealed (default LEDGER_EPOCH_MS). */
  readonly ledgerEpochMs?: number;
}

/**
 * The bank (docs/protocol.md §Node): jobs in, work out to devices, verified results settled
 * through the ledger. A facade: it builds the shared core and wires the job lifecycle (jobs/),
 * the scheduler (scheduler/), settlement (settlement/) and the task kinds (kinds/) together.
 */
export class Bank {
  /** Emits "job" with a job id whenever the job's state or progress changes (its SSE feed). */
  readonly jobEvents = new EventEmitter().setMaxListeners(0);
  private readonly core: Core;
  private readonly sweeper: Sweeper;
  private appliedEpochMs = -1;

  constructor(options: BankOptions) {
    const { kinds: overrides, ledgerEpochMs, ...parts } = options;
    const core = {
      ...parts,
      reserve: options.reserve,
      buyback: options.buyback,
      events: this.jobEvents,
      specs: new SpecCache(),
      epochs: new EpochSealer(options.ledger, options.now, ledgerEpochMs ?? LEDGER_EPOCH_MS),
      economics: () => this.economics(),
    } as Core;
    core.scheduler = new Scheduler(core);
    core.jobs = new JobLifecycle(core);
    core.settlement = new Settlement(core);
    core.kinds = createKinds(kindContext(core), overrides);
    this.core = core;
    this.sweeper = new Sweeper(core);
  }

  get sessions(): ReadonlyMap<string, DeviceSession> {
    return this.core.scheduler.sessions;
  }

  get kinds(): Kinds {
    return this.core.kinds;
  }

  /** The rate and burn decision in force; a new epoch also acts on capacity and the reserve. */
  async economics(): Promise<EconomicsSnapshot> {
    const { core } = this;
    const sessions = [...core.scheduler.sessions.values()];
    const nowMs = core.now();
    const snapshot = await core.rates.snapshot(nowMs, async () => ({
      // Shares (§3.1) count every device online, standby included: a rig in cold storage is
      // still ASIC computing power in the network.
      online: sessions.map((s) => ({
        longTail: s.longTail,
        rig: s.deviceClass === "rig",
        cuPerSec: s.cuPerSec,
      })),
      queuedCu: await openCu(core.store.db),
      standbyCuPerSec: sessions.reduce((sum, s) => sum + (s.standby ? s.cuPerSec : 0), 0),
      reserveInterest: core.buyback === undefined ? 0n : await core.buyback.measure(nowMs),
    }));
    if (snapshot.atMs !== this.appliedEpochMs) {
      this.appliedEpochMs = snapshot.atMs;
      applyCapacityDecision(sessions, snapshot, core.rates.epochSeconds, core.log);
      if (core.reserve !== undefined) {
        const operation = await core.reserve.defend(snapshot.atMs);
        if (operation.action !== "none" && operation.amountIn !== "0") {
          core.log("info", "reserve traded against decoupling", { ...operation });
        }
      }
      // After the desk's trade, before recycling: what a buyback burns is recycled this epoch.
      const buyback = await core.buyback?.buyBack(snapshot);
      if (buyback !== undefined && buyback.dpnBurned !== "0") {
        core.log("info", "the reserve's interest bought DPN back and burned it", { ...buyback });
      }
      const recycled = await recycleBurns(
        core.ledger,
        core.params.supply.recycleBps,
        snapshot.atMs,
      );
      if (recycled > 0n) {
        core.log("info", "burns recycled into the emission pool", { dpn: formatDpn(recycled) });
      }
    }
    return snapshot;
  }

  /** Accepts a job; `signed` is the submission as received, kept for its assignment seed. */
  submitJob(requester: string, submit: JobSubmit, signed: SignedSubmission): Promise<JobView> {
    return this.core.jobs.submit(requester, submit, signed);
  }

  cancelJob(requester: string, jobId: string): Promise<JobView> {
    return this.core.jobs.cancel(requester, jobId);
  }

  jobView(jobId: string): Promise<JobView> {
    return jobView(this.core, jobId);
  }

  jobResult(jobId: string): Promise<JobResult> {
    return jobResult(this.core, jobId);
  }

  /** Whether one of the device's current leases needs the artifact (scheduler/leasedInputs.ts). */
  leaseNeeds(deviceId: string, sha256: string): Promise<boolean> {
    return leaseNeeds(this.core, deviceId, sha256);
  }

  // ---- the device channel's entry points ---------------------------------------------------

  /** A registered device joins; its owner's account, which its rewards go to, is opened first. */
  async connect(session: DeviceSession): Promise<void> {
    await this.core.ledger.openAccount(ownerAccount(session.owner));
    // A quarantine outlives the connection: reconnecting does not lift it, and a fresh identity
    // registered on the same hardware fingerprint inherits it.
    const row = await devices.device(this.core.store.db, session.deviceId);
    session.quarantinedUntilMs =
      row === undefined
        ? 0
        : await devices.quarantinedUntilOnFingerprint(this.core.store.db, row.fingerprint);
    await this.core.scheduler.connect(session);
  }

  disconnect(session: DeviceSession): Promise<void> {
    return this.core.scheduler.disconnect(session);
  }

  ready(session: DeviceSession, slots: number): void {
    this.core.scheduler.ready(session, slots);
  }

  heartbeat(session: DeviceSession, activeTaskIds: readonly string[]): Promise<void> {
    return this.core.scheduler.heartbeat(session, activeTaskIds);
  }

  onResults(session: DeviceSession, results: readonly TaskResult[]): Promise<void> {
    return this.core.settlement.onResults(session, results);
  }

  /** Online devices that could take work of this type now. */
  eligibleCount(type: TaskTypeName): number {
    return this.core.scheduler.eligibleCount(type);
  }

  /**
   * A device's continuous operating time and the reward decay it has reached (docs/protocol.md
   * §Time decay): e^(−λ·days) for rigs, 1 for other classes; the run resets after a rest.
   */
  deviceDecay(row: DeviceRow): { operatingDays: number; decay: number } {
    const now = this.core.now();
    const run = advanceRun(
      { runStartMs: row.run_start_ms, lastActiveMs: row.last_active_ms },
      now,
      this.core.params.decay,
    );
    const days = operatingDays(run, now);
    return {
      operatingDays: days,
      decay: decayFactor(row.device_class as DeviceClass, days, this.core.params.decay),
    };
  }

  deviceReputation(deviceId: string): Promise<number> {
    return this.core.settlement.reputationOf(deviceId);
  }

  /** Seals the next ledger epoch now (the sweep seals one every ledgerEpochMs by itself). */
  sealEpoch(): Promise<SealedEpoch> {
    return this.core.epochs.seal();
  }

  /** Expired leases, deadlines, kinds' periodic work, held funds, history, the epoch. */
  sweep(): Promise<void> {
    return this.sweeper.sweep();
  }

  recover(): Promise<void> {
    return recover(this.core);
  }

  /** Resolves once no scheduling pass and no sweep is running. */
  async idle(): Promise<void> {
    await this.sweeper.idle();
    await this.core.scheduler.idle();
  }

  close(): void {
    this.core.scheduler.close();
  }
}

function kindContext(core: Core): KindContext {
  return {
    store: core.store,
    ledger: core.ledger,
    artifacts: core.artifacts,
    params: core.params,
    verifyPool: core.verifyPool,
    now: core.now,
    log: core.log,
    economics: () => core.economics(),
    online: () => core.scheduler.sessions.values(),
    reputationOf: (deviceId) => core.settlement.reputationOf(deviceId),
    openTasks: (ids) => core.jobs.openTasks(ids),
    withdraw: async (tasks) => {
      await core.jobs.withdraw(tasks);
    },
    finishJob: async (jobId, state, failure) => {
      await core.jobs.end(jobId, state, failure);
    },
    changed: (jobId) => core.events.emit("job", jobId),
    specOf: (job) => core.specs.of(job),
  };
}
