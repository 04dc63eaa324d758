import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { parsePartial } from "@dpn/analytics";
import type { Ledger } from "@dpn/ledger";
import {
  advanceRun,
  assignFragments,
  type Candidate,
  costCu,
  type DeviceClass,
  DpnError,
  decayFactor,
  formatDpn,
  fragmentCount,
  isDpnError,
  isEligible,
  type Layer,
  operatingDays,
  type ProtocolParams,
  parseDpn,
  priceDpn,
  reward,
  splitWork,
  type TaskType,
} from "@dpn/protocol";
import type { JobSubmit, JobView, Lease, TaskResult, Verdict as WireVerdict } from "@dpn/wire";
import { balanceOf, ownerAccount as owner } from "./accounts.ts";
import {
  type AnalyticsSpec,
  analyticsItemCosts,
  analyticsQuery,
  checkAnalyticsOutput,
  fragmentDecision,
  INITIAL_REPLICAS,
  releaseResult,
} from "./analytics.ts";
import type { ArtifactStore } from "./artifactStore.ts";
import {
  afterAccepted,
  afterLeaseExpired,
  afterRejected,
  INITIAL_REPUTATION,
} from "./devices/reputation.ts";
import type { EconomicsSnapshot, RateService } from "./economics/rateService.ts";
import type { ReserveDesk } from "./economics/reserve.ts";
import {
  admitFeatureSet,
  admitUpdate,
  afterRelease,
  budgetFromJson,
  budgetToJson,
  closeRound,
  DEFAULT_ROUND_DEADLINE_MS,
  type FeaturesSpec,
  type FlSpec,
  featureSetBytes,
  flSchedule,
  initialGlobal,
  MAX_SPOT_RUNS,
  mixAsync,
  planFeatures,
  planFl,
  releaseOf,
  requiredHolding,
  SPOT_TOLERANCE,
  selectedForSpotCheck,
  spotOriginal,
  updateDistance,
  weightsFromBase64,
  weightsToBase64,
} from "./fl.ts";
import type { DeviceRow, JobRow, NodeStore, TaskRow } from "./store/nodeStore.ts";
import type { Verdict, Verifier } from "./verify/verifier.ts";

/**
 * The bank: jobs in, work out to devices, verified results settled through the ledger
 * (docs/protocol.md §Task splitting, §Assignment, §Rewards and quotes, §Payment split).
 *
 * Hot state (connected devices, queues, leases) lives in memory; every transition that matters
 * after a crash is in the node store, and every movement of DPN in the ledger, with idempotency
 * keys derived from task ids, so a task is paid at most once even if settlement is retried.
 */
export interface DeviceSession {
  readonly deviceId: string;
  readonly owner: string;
  readonly deviceClass: DeviceClass;
  readonly layer: Layer;
  readonly longTail: boolean;
  readonly geohash: string;
  readonly cuPerSec: number;
  readonly taskTypes: readonly string[];
  /** "dataset:partition" the device holds for fl-train (its data never leaves it). */
  readonly datasets: readonly string[];
  reputation: number;
  runStartMs: number;
  lastActiveMs: number;
  /** Leases the device asked for and has not been sent. */
  credit: number;
  /** Put in cold storage by the burning controller: gets no new leases until released. */
  standby: boolean;
  readonly queue: string[];
  readonly leased: Set<string>;
  send(kind: "node.leases" | "node.verdicts", body: unknown): void;
}

export interface BankOptions {
  readonly store: NodeStore;
  readonly ledger: Ledger;
  readonly artifacts: ArtifactStore;
  readonly rates: RateService;
  readonly verifier: Verifier;
  readonly params: ProtocolParams;
  readonly now: () => number;
  /** How long a device has to return a task before it moves elsewhere. */
  readonly leaseMs: number;
  /** The reserve's anti-decoupling desk, acting once per epoch (absent: the reserve is idle). */
  readonly reserve?: ReserveDesk;
  readonly log: (level: "info" | "warn", message: string, data?: Record<string, unknown>) => void;
}

/** A fragment's results travel in one 1 MiB message; 256 Groth16 proofs take ~300 KB. */
export const MAX_ITEMS_PER_FRAGMENT = 256;
/** Parsed job specs kept in memory. */
const MAX_CACHED_SPECS = 1_000;
/** Leases one device may be owed at once; bounds a device's claim on the queue. */
export const MAX_CREDIT = 1_000;
/** §Sybil: devices registered on one hardware fingerprint. Enough for a home lab or a demo. */
export const MAX_DEVICES_PER_FINGERPRINT = 8;

export class Bank {
  readonly sessions = new Map<string, DeviceSession>();
  /**
   * Emits "job" with a job id whenever the job's state or progress changes: the live feed of the
   * job event stream (GET /v1/jobs/:id/events). Listeners are per open stream.
   */
  readonly jobEvents = new EventEmitter().setMaxListeners(0);
  private readonly o: BankOptions;
  private readonly closing = { value: false };

  constructor(options: BankOptions) {
    this.o = options;
  }

  // ---- economics ----------------------------------------------------------------------------

  /** The rate and burn decision in force (recomputed once per epoch). */
  async economics(): Promise<EconomicsSnapshot> {
    const snapshot = await this.o.rates.snapshot(this.o.now(), () => {
      // Shares (§3.1) count every device online, standby included: a rig in cold storage is
      // still ASIC computing power in the network.
      const online = [...this.sessions.values()].map((s) => ({
        longTail: s.longTail,
        rig: s.deviceClass === "rig",
        cuPerSec: s.cuPerSec,
      }));
      let queuedCu = 0;
      for (const task of this.o.store.tasksInState("pending")) queuedCu += task.cu;
      for (const task of this.o.store.tasksInState("leased")) queuedCu += task.cu;
      const standbyCuPerSec = [...this.sessions.values()].reduce(
        (sum, s) => sum + (s.standby ? s.cuPerSec : 0),
        0,
      );
      return { online, queuedCu, standbyCuPerSec };
    });
    if (snapshot.atMs !== this.appliedEpochMs) {
      this.appliedEpochMs = snapshot.atMs;
      this.applyCapacityDecision(snapshot);
      if (this.o.reserve !== undefined) {
        const operation = await this.o.reserve.defend(snapshot.atMs);
        if (operation.action !== "none" && operation.amountIn !== "0") {
          this.o.log("info", "reserve traded against decoupling", { ...operation });
        }
      }
    }
    return snapshot;
  }

  private appliedEpochMs = -1;

  /**
   * A device's continuous operating time and the reward decay it has reached (docs/protocol.md
   * §Time decay): e^(−λ·days) for rigs, 1 for other classes; the run resets after a rest.
   */
  deviceDecay(row: DeviceRow): { operatingDays: number; decay: number } {
    const now = this.o.now();
    const run = advanceRun(
      { runStartMs: row.run_start_ms, lastActiveMs: row.last_active_ms },
      now,
      this.o.params.decay,
    );
    const days = operatingDays(run, now);
    return {
      operatingDays: days,
      decay: decayFactor(row.device_class as DeviceClass, days, this.o.params.decay),
    };
  }

  /**
   * §4.2 acts on devices (docs/protocol.md §Burning controller): in excess, devices holding
   * `coldStorageCu` of capacity go on standby (rigs first, then the least reputable: they get no
   * new leases); in a shortage, standby devices holding `releaseCu` come back (the most reputable
   * first). Devices are never put on standby while they hold leases.
   */
  private applyCapacityDecision(snapshot: EconomicsSnapshot): void {
    const epochSeconds = this.o.rates.epochSeconds;
    const { coldStorageCu, releaseCu } = snapshot.burning;
    const sessions = [...this.sessions.values()];
    if (coldStorageCu > 0) {
      let toStore = coldStorageCu / epochSeconds;
      const candidates = sessions
        .filter((s) => !s.standby && s.leased.size === 0 && s.queue.length === 0)
        .sort(
          (a, b) =>
            Number(b.deviceClass === "rig") - Number(a.deviceClass === "rig") ||
            a.reputation - b.reputation,
        );
      // Keep at least one device active: standby must never stop the bank.
      for (const session of candidates.slice(0, Math.max(0, sessions.length - 1))) {
        // One device at a time, as close to the target as devices allow: a device goes to
        // standby when at least half of it fits in what remains to be stored.
        if (toStore < session.cuPerSec / 2) continue;
        session.standby = true;
        toStore -= session.cuPerSec;
        this.o.log("info", "device put on standby (cold storage)", { deviceId: session.deviceId });
      }
    } else if (releaseCu > 0) {
      let toRelease = releaseCu / epochSeconds;
      const standby = sessions.filter((s) => s.standby).sort((a, b) => b.reputation - a.reputation);
      for (const session of standby) {
        if (toRelease <= 0) break;
        session.standby = false;
        toRelease -= session.cuPerSec;
        this.o.log("info", "device released from standby", { deviceId: session.deviceId });
      }
    }
  }

  // ---- jobs ---------------------------------------------------------------------------------

  /** Parsed job specs, so a lease or a verification does not re-parse a large job each time. */
  private readonly specs = new Map<string, JobSubmit["spec"]>();

  private specOf(job: JobRow): JobSubmit["spec"] {
    let spec = this.specs.get(job.id);
    if (spec === undefined) {
      spec = JSON.parse(job.spec_json) as JobSubmit["spec"];
      // Bounded: open jobs are few; a cleared cache only costs a re-parse.
      if (this.specs.size >= MAX_CACHED_SPECS) this.specs.clear();
      this.specs.set(job.id, spec);
    }
    return spec;
  }

  /** Accepts a job: quotes it, holds its budget, splits and assigns it. Idempotent per clientRef. */
  async submitJob(requester: string, submit: JobSubmit): Promise<JobView> {
    const now = this.o.now();
    const existing = this.o.store.jobByClientRef(requester, submit.clientRef);
    if (existing !== undefined) {
      if (existing.spec_json !== JSON.stringify(submit.spec) || existing.budget !== submit.budget) {
        throw new DpnError(
          "JOB_CLIENT_REF_REUSED",
          "This clientRef was already used for a different job.",
          {
            hint: "Use a new clientRef for a new job; reuse one only to retry the same submission.",
            details: { jobId: existing.id },
          },
        );
      }
      return this.jobView(existing.id);
    }
    const spec = submit.spec;
    if (spec.type === "render") throw notServed(spec.type);
    const budget = parseDpn(submit.budget);
    if (spec.type === "fl-train") return this.submitFl(requester, submit, spec, budget, now);
    if (spec.type === "fl-features")
      return this.submitFeatures(requester, submit, spec, budget, now);
    this.requireFutureDeadline(submit, now);
    const itemCu = this.itemCosts(submit);
    const totalCu = itemCu.reduce((a, b) => a + b, 0);
    const { economics, quote } = await this.quoteWithin(requester, submit, budget, totalCu);

    const jobId = `job_${randomBytes(8).toString("hex")}`;
    const seed = createHash("sha256").update(`${jobId}:${now}`).digest("hex");
    const eligible = this.eligibleSessions(spec.type);
    // ⌈log2 N⌉ fragments (§Task splitting), more if a fragment's results would not fit one message.
    // An analytics job's fragments are its data files: one task (and its replicas) per file.
    const fragments =
      spec.type === "sql-analytics"
        ? spec.items.length
        : Math.min(
            spec.items.length,
            Math.max(
              fragmentCount(eligible.length, spec.items.length),
              Math.ceil(spec.items.length / MAX_ITEMS_PER_FRAGMENT),
            ),
          );
    const sizes = splitWork(spec.items.length, fragments);
    const replicas = spec.type === "sql-analytics" ? INITIAL_REPLICAS : 1;
    const tasks: TaskRow[] = [];
    let from = 0;
    let held = 0n;
    for (const [index, size] of sizes.entries()) {
      for (let replica = 0; replica < replicas; replica++) {
        const taskId = replica === 0 ? `${jobId}.${index}` : `${jobId}.${index}.r${replica}`;
        const last = index === sizes.length - 1 && replica === replicas - 1;
        // The budget is held per task, in proportion to its items; the last takes the dust.
        const holdAmount = last
          ? budget - held
          : (budget * BigInt(size)) / BigInt(spec.items.length * replicas);
        held += holdAmount;
        tasks.push(
          newTask({
            id: taskId,
            jobId,
            idx: index,
            items: [from, from + size],
            cu: itemCu.slice(from, from + size).reduce((a, b) => a + b, 0) / replicas,
            holdAmount,
          }),
        );
      }
      from += size;
    }
    await this.openJob(
      newJob({ jobId, requester, submit, now, totalCu, quote, economics, tasks: fragments, seed }),
      tasks,
    );
    this.o.log("info", "job accepted", { jobId, items: spec.items.length, fragments, cu: totalCu });
    return this.jobView(jobId);
  }

  /**
   * An fl-train job: every task of every round is created (and its hold placed) up front, from
   * the seeded schedule; rounds after the first wait until the previous one closes. Round 0 is
   * the initial global model.
   */
  /**
   * An fl-train job: every task of every round is created (and its hold placed) up front, from
   * the seeded schedule; rounds after the first wait until the previous one closes (async: all
   * open at once). Round 0 is the initial global model, evaluated as a baseline.
   */
  private async submitFl(
    requester: string,
    submit: JobSubmit,
    spec: FlSpec,
    budget: bigint,
    now: number,
  ): Promise<JobView> {
    this.requireFutureDeadline(submit, now);
    const plan = await planFl(spec, this.o.params.costModel, (id) => this.o.store.job(id));
    this.refuseExhaustedHolders(spec);
    return this.createPlannedJob(requester, submit, budget, now, {
      taskCu: plan.taskCu,
      states: (seed) =>
        flSchedule(seed, spec).map((entry) =>
          entry.round === 1 || spec.mode === "async" ? "pending" : "waiting",
        ),
      prepare: async (jobId, seed) => {
        const initial = await closeRound(spec, initialGlobal(spec, seed), []);
        this.o.store.recordFlRound({
          job_id: jobId,
          round: 0,
          weights: weightsToBase64(initial.weights),
          accuracy: initial.accuracy,
          loss: initial.loss,
          updates: 0,
          closed_ms: now,
        });
      },
      afterOpen: (jobId) => {
        if (spec.mode !== "async") this.roundOpenedAt.set(jobId, now);
      },
    });
  }

  /**
   * An fl-features job: one light-layer task per partition, each releasing the partition's
   * cleaned features under local DP (docs/protocol.md §Federated learning jobs).
   */
  private async submitFeatures(
    requester: string,
    submit: JobSubmit,
    spec: FeaturesSpec,
    budget: bigint,
    now: number,
  ): Promise<JobView> {
    this.requireFutureDeadline(submit, now);
    const taskCu = await planFeatures(spec, this.o.params.costModel);
    this.refuseExhaustedHolders(spec);
    return this.createPlannedJob(requester, submit, budget, now, {
      taskCu,
      states: () => spec.partitions.map(() => "pending"),
    });
  }

  /**
   * The quote of `totalCu` at the rate in force; refuses a budget below it
   * (JOB_BUDGET_TOO_LOW, with the quote) or above what the requester holds.
   */
  private async quoteWithin(
    requester: string,
    submit: JobSubmit,
    budget: bigint,
    totalCu: number,
  ): Promise<{ economics: EconomicsSnapshot; quote: bigint }> {
    const economics = await this.economics();
    const quote = priceDpn(totalCu, economics.rate);
    if (budget < quote) {
      throw new DpnError(
        "JOB_BUDGET_TOO_LOW",
        `The budget ${submit.budget} DPN is below the quote of ${formatDpn(quote)} DPN.`,
        {
          hint: `Raise the budget to at least ${formatDpn(quote)} DPN (${totalCu.toFixed(3)} CU at ${economics.rate.cuPerDpn.toFixed(2)} CU/DPN).`,
          details: { quote: formatDpn(quote), cu: totalCu },
        },
      );
    }
    const balance = await balanceOf(this.o.ledger, requester);
    if (balance < budget) {
      throw new DpnError(
        "LEDGER_INSUFFICIENT_FUNDS",
        `The account holds ${formatDpn(balance)} DPN; the budget is ${submit.budget} DPN.`,
        { hint: "Lower the budget or fund the account first." },
      );
    }
    return { economics, quote };
  }

  private requireFutureDeadline(submit: JobSubmit, now: number): void {
    if (submit.deadlineMs <= now) {
      throw new DpnError("JOB_DEADLINE_PASSED", "The job's deadline is in the past.", {
        hint: "Set deadlineMs to a future time (milliseconds since 1970).",
      });
    }
  }

  /** Refuse DP work no online holder could do without exceeding its privacy budget. */
  private refuseExhaustedHolders(spec: FlSpec | FeaturesSpec): void {
    if (releaseOf(spec) === undefined || (spec.type === "fl-train" && spec.features !== undefined))
      return;
    for (const partition of spec.partitions) {
      const holding = requiredHolding(spec, partition);
      const holders = [...this.sessions.values()].filter((s) => s.datasets.includes(holding));
      if (holders.length > 0 && !holders.some((s) => this.canRelease(s.deviceId, spec))) {
        throw new DpnError(
          "DP_BUDGET_EXCEEDED",
          `Every device holding ${holding} has spent its privacy budget on ${spec.dataset}.`,
          {
            hint: `Each device may release at most ε = ${this.o.params.privacy.totalEpsilon} about a data set in its lifetime; use other partitions or a smaller ε per release.`,
            details: { partition, holders: holders.length },
          },
        );
      }
    }
  }

  /**
   * Creates a job whose tasks are planned up front (one item each), quotes it, holds its budget
   * in equal shares per task, and opens it: the shared path of fl-train and fl-features.
   */
  private async createPlannedJob(
    requester: string,
    submit: JobSubmit,
    budget: bigint,
    now: number,
    plan: {
      readonly taskCu: number;
      readonly states: (seed: string) => TaskRow["state"][];
      /** Runs before the job's rows are written (see openJob). */
      readonly prepare?: (jobId: string, seed: string) => Promise<void>;
      readonly afterOpen?: (jobId: string) => void;
    },
  ): Promise<JobView> {
    const jobId = `job_${randomBytes(8).toString("hex")}`;
    const seed = createHash("sha256").update(`${jobId}:${now}`).digest("hex");
    const states = plan.states(seed);
    const totalCu = plan.taskCu * states.length;
    const { economics, quote } = await this.quoteWithin(requester, submit, budget, totalCu);
    let held = 0n;
    const tasks: TaskRow[] = states.map((state, idx) => {
      const holdAmount = idx === states.length - 1 ? budget - held : budget / BigInt(states.length);
      held += holdAmount;
      return newTask({
        id: `${jobId}.${idx}`,
        jobId,
        idx,
        items: [idx, idx + 1],
        cu: plan.taskCu,
        holdAmount,
        state,
      });
    });
    const job = newJob({
      jobId,
      requester,
      submit,
      now,
      totalCu,
      quote,
      economics,
      tasks: tasks.length,
      seed,
    });
    await this.openJob(job, tasks, () => plan.prepare?.(jobId, seed) ?? Promise.resolve());
    plan.afterOpen?.(jobId);
    return this.jobView(jobId);
  }

  /**
   * Acknowledges a job: `prepare` (state the job needs before anyone can work on it, such as an
   * FL job's round 0), then its rows, then its holds; if anything fails, everything is undone
   * and the job was never accepted. Then it opens and its pending tasks are assigned. A crash
   * after the rows are written leaves the job in `funding`, which recover() completes.
   */
  private async openJob(
    job: JobRow,
    tasks: readonly TaskRow[],
    prepare: () => Promise<void> = async () => {},
  ): Promise<void> {
    try {
      await prepare();
      this.o.store.insertJob(job, tasks);
      await this.fund(job, tasks);
    } catch (error) {
      await this.releaseHolds(tasks);
      this.o.store.transaction(() => {
        this.o.store.db.prepare("DELETE FROM tasks WHERE job_id = ?").run(job.id);
        this.o.store.db.prepare("DELETE FROM fl_rounds WHERE job_id = ?").run(job.id);
        this.o.store.db.prepare("DELETE FROM jobs WHERE id = ?").run(job.id);
      });
      throw error;
    }
    this.o.store.setJobState(job.id, "open");
    this.jobEvents.emit("job", job.id);
    this.assign(
      job.id,
      tasks.filter((t) => t.state === "pending").map((t) => t.id),
    );
    this.dispatch();
  }

  /** When each fl-train job's current round opened (for its deadline). */
  private readonly roundOpenedAt = new Map<string, number>();

  /** Whether a device's privacy budget on the job's data set covers one more DP update. */
  private canRelease(deviceId: string, spec: FlSpec | FeaturesSpec): boolean {
    const release = releaseOf(spec);
    if (release === undefined) return true;
    const budget = budgetFromJson(
      this.o.store.privacyBudget(deviceId, spec.dataset),
      deviceId,
      spec.dataset,
      this.o.params.privacy,
    );
    return afterRelease(budget, release, this.o.params.privacy) !== undefined;
  }

  /** Charges one DP update to the device leasing it (before the device computes it). */
  private chargeRelease(deviceId: string, spec: FlSpec | FeaturesSpec): void {
    const release = releaseOf(spec);
    if (release === undefined) return;
    const budget = budgetFromJson(
      this.o.store.privacyBudget(deviceId, spec.dataset),
      deviceId,
      spec.dataset,
      this.o.params.privacy,
    );
    const next = afterRelease(budget, release, this.o.params.privacy);
    if (next !== undefined)
      this.o.store.setPrivacyBudget(deviceId, spec.dataset, budgetToJson(next));
  }

  /** The round a task of an fl-train job belongs to (1-based). */
  private flRoundOf(spec: FlSpec, task: TaskRow): number {
    return Math.floor(task.idx / spec.devicesPerRound) + 1;
  }

  /**
   * Closes the job's open round when all its tasks have returned (or `force`: its deadline
   * passed, and what is still out is withdrawn): aggregates, evaluates, records the new global
   * model, then opens the next round or finishes the job.
   */
  private async advanceFl(job: JobRow, force = false, settled?: TaskRow): Promise<void> {
    const spec = this.specOf(job) as FlSpec;
    if (spec.mode === "async") {
      // One mix at a time per job: each reads the newest version and writes the next.
      const previous = this.asyncMixing.get(job.id) ?? Promise.resolve();
      const next = previous.then(() => this.mixAsyncUpdate(job, spec, settled));
      this.asyncMixing.set(
        job.id,
        next.catch(() => undefined),
      );
      return next;
    }
    const last = this.o.store.lastFlRound(job.id);
    if (last === undefined || this.o.store.job(job.id)?.state !== "open") return;
    const round = last.round + 1;
    if (round > spec.rounds) return;
    const tasks = this.o.store.tasksOf(job.id).filter((t) => this.flRoundOf(spec, t) === round);
    const out = tasks.filter(
      (t) =>
        t.state === "pending" ||
        t.state === "leased" ||
        t.state === "settling" ||
        t.state === "replicated",
    );
    if (out.length > 0 && !force) return;
    if (this.closingRounds.has(job.id)) return;
    this.closingRounds.add(job.id);
    try {
      for (const task of out.filter((t) => t.state !== "settling")) this.withdraw(task);
      await this.releaseHolds(out.filter((t) => t.state !== "settling"));
      // A confirmed update counts once: its original's, or (original outvoted) one re-execution's.
      const doneIds = new Set(tasks.filter((t) => t.state === "done").map((t) => t.id));
      const counted = new Set<string>();
      const contributions = tasks
        .filter((t) => t.state === "done" && t.output_json !== null)
        .filter((t) => {
          const key = spotOriginal(t.id) ?? t.id;
          if (spotOriginal(t.id) !== undefined && doneIds.has(key)) return false;
          if (counted.has(key)) return false;
          counted.add(key);
          return true;
        })
        .map((t) => {
          const admitted = admitUpdate(spec, JSON.parse(t.output_json as string) as unknown[]);
          return admitted.ok
            ? { update: admitted.update, samples: admitted.output.samples }
            : undefined;
        })
        .filter((c): c is { update: Float32Array; samples: number } => c !== undefined);
      const outcome = await closeRound(spec, weightsFromBase64(last.weights), contributions);
      const now = this.o.now();
      this.o.store.recordFlRound({
        job_id: job.id,
        round,
        weights: weightsToBase64(outcome.weights),
        accuracy: outcome.accuracy,
        loss: outcome.loss,
        updates: outcome.updates,
        closed_ms: now,
      });
      this.o.log("info", "federated round closed", {
        jobId: job.id,
        round,
        updates: outcome.updates,
        accuracy: outcome.accuracy,
      });
      if (round === spec.rounds) {
        this.o.store.setJobState(job.id, "done", now);
        this.roundOpenedAt.delete(job.id);
      } else {
        const next = this.o.store
          .tasksOf(job.id)
          .filter((t) => this.flRoundOf(spec, t) === round + 1)
          .map((t) => t.id);
        this.o.store.openTasks(next);
        this.roundOpenedAt.set(job.id, now);
        this.assign(job.id, next);
        this.dispatch();
      }
      this.jobEvents.emit("job", job.id);
    } finally {
      this.closingRounds.delete(job.id);
    }
  }

  private readonly closingRounds = new Set<string>();
  private readonly asyncMixing = new Map<string, Promise<void>>();
  /** The global version each async training task was leased with (its staleness baseline). */
  private readonly leasedVersion = new Map<string, number>();

  /** FedAsync: mixes one admitted update into the newest global model, then maybe finishes. */
  private async mixAsyncUpdate(job: JobRow, spec: FlSpec, settled?: TaskRow): Promise<void> {
    if (this.o.store.job(job.id)?.state !== "open") return;
    const latest = this.o.store.lastFlRound(job.id);
    const task = settled === undefined ? undefined : this.o.store.task(settled.id);
    if (latest === undefined) return;
    if (task !== undefined && task.state === "done" && task.output_json !== null) {
      const admitted = admitUpdate(spec, JSON.parse(task.output_json) as unknown[]);
      if (admitted.ok) {
        // Unknown after a restart: treat the update as fresh against the newest model.
        const baseVersion = this.leasedVersion.get(task.id) ?? latest.round;
        this.leasedVersion.delete(task.id);
        const base = this.o.store.flRounds(job.id).find((r) => r.round === baseVersion) ?? latest;
        const outcome = await mixAsync(
          spec,
          weightsFromBase64(latest.weights),
          weightsFromBase64(base.weights),
          admitted.update,
          latest.round - baseVersion,
        );
        this.o.store.recordFlRound({
          job_id: job.id,
          round: latest.round + 1,
          weights: weightsToBase64(outcome.weights),
          accuracy: outcome.accuracy,
          loss: outcome.loss,
          updates: 1,
          closed_ms: this.o.now(),
        });
      }
    }
    // Done when nothing runs and every paid update has been mixed in: a concurrent settle may
    // have marked its task done while its mix still waits its turn in the chain.
    const tasks = this.o.store.tasksOf(job.id);
    const running = tasks.some(
      (t) => t.state === "pending" || t.state === "leased" || t.state === "settling",
    );
    const mixed = this.o.store.flRounds(job.id).length - 1;
    const paid = tasks.filter((t) => t.state === "done").length;
    if (!running && mixed >= paid) this.o.store.setJobState(job.id, "done", this.o.now());
    this.jobEvents.emit("job", job.id);
  }

  /** The training history and the final global model of an fl-train job. */
  private flResult(
    job: JobRow,
    spec: FlSpec,
  ): {
    readonly jobId: string;
    readonly state: string;
    readonly outputs: unknown[];
    readonly result: unknown;
  } {
    const rounds = this.o.store.flRounds(job.id);
    const last = rounds[rounds.length - 1];
    return {
      jobId: job.id,
      state: job.state,
      outputs: [],
      result: {
        model: spec.model,
        dataset: spec.dataset,
        rounds: rounds.map((r) => ({
          round: r.round,
          accuracy: r.accuracy,
          loss: r.loss,
          updates: r.updates,
          closedMs: r.closed_ms,
        })),
        weights: last?.weights ?? null,
      },
    };
  }

  private itemCosts(submit: JobSubmit): number[] {
    const spec = submit.spec;
    if (spec.type === "hash")
      return spec.items.map((item) => costCu({ type: "hash", iterations: item.iterations }));
    if (spec.type === "fl-train" || spec.type === "fl-features")
      throw new Error("federated jobs are priced by createPlannedJob");
    if (spec.type === "render") throw notServed(spec.type);
    if (spec.type === "sql-analytics") {
      const query = analyticsQuery(spec);
      for (const item of spec.items) this.requireArtifact(item.sha256, "data fragment");
      // Every fragment runs INITIAL_REPLICAS times: the quote pays for the quorum.
      return analyticsItemCosts(spec, query, this.o.params.costModel).map(
        (cu) => cu * INITIAL_REPLICAS,
      );
    }
    for (const sha of Object.values(spec.artifacts)) {
      if (!this.o.artifacts.has(sha)) {
        throw new DpnError("ARTIFACT_NOT_FOUND", `Artifact ${sha} has not been uploaded.`, {
          hint: "Upload the circuit's wasm, zkey and verification key first (PUT /v1/artifacts/{sha256}).",
        });
      }
    }
    if (
      spec.expectedPublicSignals !== undefined &&
      spec.expectedPublicSignals.length !== spec.items.length
    ) {
      throw new DpnError("JOB_INVALID", "expectedPublicSignals must have one entry per item.", {
        hint: "Give the expected public signals of every proof, or none.",
      });
    }
    const perProof = costCu({ type: "zk-groth16", constraints: spec.constraints, proofs: 1 });
    return spec.items.map(() => perProof);
  }

  private requireArtifact(sha256: string, what: string): void {
    if (!this.o.artifacts.has(sha256)) {
      throw new DpnError("ARTIFACT_NOT_FOUND", `The ${what} ${sha256} has not been uploaded.`, {
        hint: "Upload it first (PUT /v1/artifacts/{sha256}), then submit the job.",
      });
    }
  }

  private async fund(job: JobRow, tasks: readonly TaskRow[]): Promise<void> {
    // A hold outlives the deadline by a day so settlement of a late-verified result can finish.
    const expiresAtMs = job.deadline_ms + 86_400_000;
    await Promise.all(
      tasks.map((task) =>
        this.o.ledger.placeHold({
          idempotencyKey: task.hold_id,
          holdId: task.hold_id,
          from: owner(job.requester),
          amount: BigInt(task.hold_amount),
          expiresAtMs,
        }),
      ),
    );
  }

  private async releaseHolds(tasks: readonly TaskRow[]): Promise<void> {
    for (const task of tasks) {
      const hold = await this.o.ledger.hold(task.hold_id);
      if (hold !== undefined && hold.status === "open") {
        await this.o.ledger.releaseHold({
          idempotencyKey: `${task.hold_id}:release`,
          holdId: task.hold_id,
        });
      }
    }
  }

  async cancelJob(
    requester: string,
    jobId: string,
    reason: "cancelled" | "expired" | "budget-exhausted" = "cancelled",
  ): Promise<JobView> {
    const job = this.requireJob(jobId);
    if (job.requester !== requester) {
      throw new DpnError("JOB_NOT_YOURS", "Only the requester who submitted a job can cancel it.", {
        hint: "Sign the cancellation with the key that submitted the job.",
      });
    }
    if (job.state !== "open" && job.state !== "funding") return this.jobView(jobId);
    const cancelled = this.o.store.cancelOpenTasks(jobId);
    for (const task of cancelled) {
      for (const session of this.sessions.values()) {
        session.leased.delete(task.id);
        const at = session.queue.indexOf(task.id);
        if (at !== -1) session.queue.splice(at, 1);
      }
    }
    await this.releaseHolds(cancelled);
    this.o.store.setJobState(jobId, reason, this.o.now());
    this.jobEvents.emit("job", jobId);
    this.o.log("info", `job ${reason}`, { jobId, released: cancelled.length });
    return this.jobView(jobId);
  }

  requireJob(jobId: string): JobRow {
    const job = this.o.store.job(jobId);
    if (job === undefined) {
      throw new DpnError("JOB_NOT_FOUND", `There is no job ${jobId}.`, {
        hint: "Check the job id returned at submission.",
      });
    }
    return job;
  }

  jobView(jobId: string): JobView {
    const job = this.requireJob(jobId);
    const tasks = this.o.store.tasksOf(jobId);
    let spent = 0n;
    // Replicas share their fragment's items: count each fragment once.
    const fragmentItems = new Map<number, number>();
    const doneFragments = new Set<number>();
    for (const task of tasks) {
      if (task.price !== null) spent += BigInt(task.price);
      fragmentItems.set(task.idx, task.item_to - task.item_from);
      if (task.state === "done") doneFragments.add(task.idx);
    }
    let itemsDone = 0;
    for (const idx of doneFragments) itemsDone += fragmentItems.get(idx) ?? 0;
    return {
      jobId,
      state: job.state,
      type: job.type,
      requester: job.requester,
      items: [...fragmentItems.values()].reduce((n, items) => n + items, 0),
      itemsDone,
      cu: job.cu,
      quote: formatDpn(BigInt(job.quote)),
      budget: job.budget,
      spent: formatDpn(spent),
      cuPerDpn: job.cu_per_dpn,
      seed: job.seed,
      createdMs: job.created_ms,
      deadlineMs: job.deadline_ms,
      finishedMs: job.finished_ms,
      fragments: tasks.map((t) => ({
        taskId: t.id,
        index: t.idx,
        items: t.item_to - t.item_from,
        state: t.state,
        deviceId: t.device_id,
        attempts: t.attempt,
        price: t.price === null ? null : formatDpn(BigInt(t.price)),
        reward: t.reward === null ? null : formatDpn(BigInt(t.reward)),
      })),
    };
  }

  /** The outputs of a job's finished fragments, in item order. */
  jobResult(jobId: string): {
    readonly jobId: string;
    readonly state: string;
    readonly outputs: unknown[];
  } {
    const job = this.requireJob(jobId);
    const outputs: unknown[] = [];
    const spec = this.specOf(job);
    if (spec.type === "sql-analytics") return this.analyticsResult(job, spec);
    if (spec.type === "fl-train") return this.flResult(job, spec);
    if (spec.type === "fl-features") {
      return {
        jobId: job.id,
        state: job.state,
        outputs: this.o.store.tasksOf(job.id).map((t) => ({
          partition: spec.partitions[t.idx],
          state: t.state,
          // The released set (noisy features and labels); the raw rows never left the device.
          released:
            t.output_json === null
              ? null
              : (JSON.parse(t.output_json) as Array<{ rows: number; dropped: number }>).map(
                  (o) => ({
                    rows: o.rows,
                    dropped: o.dropped,
                    sha256: createHash("sha256")
                      .update(featureSetBytes(t.output_json as string))
                      .digest("hex"),
                  }),
                )[0],
        })),
      };
    }
    for (const task of this.o.store.tasksOf(jobId)) {
      const taskOutputs: unknown[] =
        task.output_json === null ? [] : (JSON.parse(task.output_json) as unknown[]);
      for (let i = 0; i < task.item_to - task.item_from; i++) outputs.push(taskOutputs[i] ?? null);
    }
    return { jobId, state: job.state, outputs };
  }

  /**
   * An analytics job's result: the accepted partial of each fragment (one done replica per
   * fragment; agreeing replicas are byte-identical) merged by the node, once every fragment has
   * one. Until then the partials so far, unmerged.
   */
  private analyticsResult(
    job: JobRow,
    spec: AnalyticsSpec,
  ): {
    readonly jobId: string;
    readonly state: string;
    readonly outputs: unknown[];
    readonly result?: unknown;
  } {
    const accepted = new Map<number, unknown>();
    for (const task of this.o.store.tasksOf(job.id)) {
      if (task.state === "done" && task.output_json !== null && !accepted.has(task.idx)) {
        accepted.set(
          task.idx,
          (JSON.parse(task.output_json) as Array<{ partial: unknown }>)[0]?.partial,
        );
      }
    }
    const outputs = spec.items.map((_, idx) => accepted.get(idx) ?? null);
    if (accepted.size < spec.items.length) return { jobId: job.id, state: job.state, outputs };
    const query = analyticsQuery(spec);
    const partials = outputs.map((partial) => parsePartial(query, partial));
    const release = releaseResult(job.id, job.seed, spec, partials);
    return { jobId: job.id, state: job.state, outputs, result: release };
  }

  // ---- assignment and dispatch ---------------------------------------------------------------

  private eligibleSessions(
    type: string,
    excluded: ReadonlySet<string> = new Set(),
  ): DeviceSession[] {
    return [...this.sessions.values()].filter(
      (s) =>
        s.taskTypes.includes(type) && !excluded.has(s.deviceId) && isEligible(s, type as TaskType),
    );
  }

  /**
   * Assigns tasks of one job to connected devices (docs/protocol.md §Assignment). The seed is
   * derived from the job's seed and each task's attempt, and the candidates are recorded with the
   * result, so anyone can re-run the choice with auditAssignment.
   */
  private assign(jobId: string, taskIds: readonly string[]): void {
    const job = this.requireJob(jobId);
    if (
      (job.type === "sql-analytics" || job.type === "fl-train" || job.type === "fl-features") &&
      taskIds.length > 1
    ) {
      // Replicas of a fragment must run on different devices: assign them one at a time, each
      // excluding the devices its siblings went to.
      for (const id of taskIds) this.assign(jobId, [id]);
      return;
    }
    const tasks = taskIds
      .map((id) => this.o.store.task(id))
      .filter((t): t is TaskRow => t !== undefined && t.state === "pending");
    if (tasks.length === 0) return;
    const excluded = new Set<string>(tasks.flatMap((t) => JSON.parse(t.excluded_json) as string[]));
    if (job.type === "sql-analytics") {
      for (const task of tasks) for (const d of this.replicaDevices(task)) excluded.add(d);
    }
    // Devices already holding another fragment of this job count as holding one (anti-monopoly).
    const holding = new Set(
      this.o.store
        .tasksOf(jobId)
        .filter((t) => t.state === "leased" && t.device_id !== null)
        .map((t) => t.device_id as string),
    );
    let candidates = this.eligibleSessions(job.type, excluded);
    if (job.type === "fl-train" || job.type === "fl-features") {
      // Work on private data goes to the data: only devices holding the task's partition may
      // take it (training on released features may run on any heavy device).
      const spec = this.specOf(job) as FlSpec | FeaturesSpec;
      const partition =
        spec.type === "fl-train"
          ? flSchedule(job.seed, spec)[tasks[0]?.idx ?? 0]?.partition
          : spec.partitions[tasks[0]?.idx ?? 0];
      const holding = requiredHolding(spec, partition ?? "");
      const anyHolder = spec.type === "fl-train" && spec.features !== undefined;
      candidates = candidates.filter(
        (s) => (anyHolder || s.datasets.includes(holding)) && this.canRelease(s.deviceId, spec),
      );
    }
    // Devices that have asked for work come first; busy ones only if no one is waiting for work.
    const ready = candidates.filter((s) => s.credit > s.queue.length);
    if (ready.length > 0) candidates = ready;
    const fresh = candidates.filter((s) => !holding.has(s.deviceId));
    if (fresh.length >= tasks.length) candidates = fresh;
    if (candidates.length === 0) return; // waits for an eligible device to connect
    const input = {
      seed: `${job.seed}:${tasks.map((t) => `${t.idx}.${t.attempt}`).join(",")}`,
      fragments: tasks.length,
      candidates: candidates.map(
        (s): Candidate => ({
          deviceId: s.deviceId,
          geohash: s.geohash,
          capabilityCuPerSec: s.cuPerSec,
          reputation: s.reputation,
        }),
      ),
    };
    const picks = assignFragments(input);
    const log = JSON.parse(job.assignment_json) as unknown[];
    log.push({
      atMs: this.o.now(),
      tasks: tasks.map((t) => t.id),
      input,
      picks: picks.map((p) => p.deviceId),
    });
    this.o.store.db
      .prepare("UPDATE jobs SET assignment_json = ? WHERE id = ?")
      .run(JSON.stringify(log), jobId);
    for (const pick of picks) {
      const task = tasks[pick.fragment];
      const session = this.sessions.get(pick.deviceId);
      if (task !== undefined && session !== undefined) session.queue.push(task.id);
    }
  }

  /**
   * What a training task carries: the round's global model (the last closed round's weights),
   * the model and training config, the partition to train on and a seed for its batch order.
   */
  private flLeaseItem(job: JobRow, spec: FlSpec, task: TaskRow): Record<string, unknown> {
    const entry = flSchedule(job.seed, spec)[task.idx];
    return {
      dataset: spec.dataset,
      partition: entry?.partition ?? "",
      round: entry?.round ?? 0,
      weights: this.o.store.lastFlRound(job.id)?.weights ?? "",
      model: spec.model,
      train: spec.train,
      topK: spec.topK ?? 1,
      // A re-execution repeats its original exactly: the same seed (and the same base model).
      seed: `${job.seed}:${spotOriginal(task.id) ?? task.id}`,
      ...(spec.privacy === undefined ? {} : { privacy: spec.privacy }),
    };
  }

  /**
   * The artifact of the released feature set a training task on `features` trains on: the
   * fl-features job's accepted output for the task's partition, stored when it was verified.
   */
  private featureSetArtifact(spec: FlSpec, job: JobRow, task: TaskRow): string {
    const partition = flSchedule(job.seed, spec)[task.idx]?.partition;
    const source = this.o.store.job(spec.features ?? "");
    if (source === undefined || partition === undefined) return "";
    const sourceSpec = JSON.parse(source.spec_json) as FeaturesSpec;
    const idx = sourceSpec.partitions.indexOf(partition);
    const released = this.o.store
      .tasksOf(source.id)
      .find((t) => t.idx === idx && t.state === "done" && t.output_json !== null);
    if (released === undefined) return "";
    const bytes = featureSetBytes(released.output_json as string);
    return createHash("sha256").update(bytes).digest("hex");
  }

  /** Devices that hold, ran, or are queued for another replica of the task's fragment. */
  private replicaDevices(task: TaskRow): Set<string> {
    const devices = new Set<string>();
    for (const sibling of this.o.store.tasksOf(task.job_id)) {
      if (sibling.idx !== task.idx || sibling.id === task.id) continue;
      if (sibling.device_id !== null) devices.add(sibling.device_id);
      for (const session of this.sessions.values()) {
        if (session.queue.includes(sibling.id)) devices.add(session.deviceId);
      }
    }
    return devices;
  }

  /** Sends queued tasks to devices that have asked for work, one frame per device. */
  dispatch(): void {
    this.rebalance();
    const now = this.o.now();
    for (const session of this.sessions.values()) {
      if (session.credit <= 0 || session.queue.length === 0) continue;
      const leases: Lease[] = [];
      const leaseExpiresAtMs = now + this.o.leaseMs;
      this.o.store.transaction(() => {
        while (session.credit > 0 && session.queue.length > 0) {
          const taskId = session.queue.shift() as string;
          const task = this.o.store.task(taskId);
          if (task === undefined || task.state !== "pending") continue;
          const job = this.requireJob(task.job_id);
          const spec = this.specOf(job);
          if (spec.type === "render") continue;
          if (
            (spec.type === "fl-train" || spec.type === "fl-features") &&
            releaseOf(spec) !== undefined
          ) {
            // The budget may have been spent since the task was queued here: refuse, re-place.
            if (!this.canRelease(session.deviceId, spec)) {
              this.o.log("warn", "privacy budget exhausted; DP training task refused", {
                taskId,
                deviceId: session.deviceId,
                dataset: spec.dataset,
              });
              this.assign(job.id, [taskId]); // to another holder whose budget still covers it
              continue;
            }
            this.chargeRelease(session.deviceId, spec);
          }
          if (spec.type === "fl-train") {
            this.leasedVersion.set(taskId, this.o.store.lastFlRound(job.id)?.round ?? 0);
          }
          this.o.store.leaseTask(taskId, session.deviceId, leaseExpiresAtMs);
          session.leased.add(taskId);
          session.credit -= 1;
          // Interim: the kernel's kinds build typed leases; until then the shape is checked by the device.
          leases.push(<Lease>{
            taskId,
            jobId: job.id,
            type: spec.type,
            leaseExpiresAtMs,
            artifacts:
              spec.type === "zk-groth16"
                ? { ...spec.artifacts }
                : spec.type === "sql-analytics"
                  ? { fragment: spec.items[task.item_from]?.sha256 ?? "" }
                  : spec.type === "fl-train" && spec.features !== undefined
                    ? { featureSet: this.featureSetArtifact(spec, job, task) }
                    : {},
            items:
              spec.type === "fl-features"
                ? [
                    {
                      dataset: spec.dataset,
                      partition: spec.partitions[task.idx] ?? "",
                      featureEpsilon: spec.featureEpsilon,
                      ...(spec.labelEpsilon === undefined
                        ? {}
                        : { labelEpsilon: spec.labelEpsilon }),
                    },
                  ]
                : spec.type === "fl-train"
                  ? [this.flLeaseItem(job, spec, task)]
                  : spec.type === "sql-analytics"
                    ? spec.items
                        .slice(task.item_from, task.item_to)
                        .map((item) => ({ ...item, query: analyticsQuery(spec) }))
                    : spec.items.slice(task.item_from, task.item_to),
          });
        }
      });
      if (leases.length > 0) session.send("node.leases", { leases });
    }
  }

  // ---- results ------------------------------------------------------------------------------

  /** Verifies and settles a frame of results from one device; answers with verdicts. */
  async onResults(session: DeviceSession, results: readonly TaskResult[]): Promise<void> {
    // Results settle concurrently: the ledger batches their postings into shared commits.
    const verdicts = await Promise.all(results.map((result) => this.settleResult(session, result)));
    session.send("node.verdicts", { verdicts });
    this.dispatch();
  }

  private async settleResult(session: DeviceSession, result: TaskResult): Promise<WireVerdict> {
    const task = this.o.store.task(result.taskId);
    const rejected = (code: string, reason: string): WireVerdict => ({
      taskId: result.taskId,
      accepted: false,
      code,
      reason,
      reward: "0",
    });
    if (task === undefined || task.device_id !== session.deviceId || task.state !== "leased") {
      return rejected(
        "TASK_NOT_LEASED",
        "this task is not leased to this device (expired, reassigned or finished)",
      );
    }
    session.leased.delete(task.id);
    const job = this.requireJob(task.job_id);
    const verdict = await this.verify(job, task, result.outputs);
    const now = this.o.now();
    if (!verdict.ok) {
      session.reputation = afterRejected(session.reputation);
      const device = this.o.store.device(session.deviceId);
      this.o.store.recordDeviceOutcome(
        session.deviceId,
        false,
        session.reputation,
        BigInt(device?.earned ?? "0"),
        0,
        now,
        session.runStartMs,
      );
      const excluded = [...(JSON.parse(task.excluded_json) as string[]), session.deviceId];
      this.o.store.requeueTask(task.id, excluded);
      this.o.log("warn", "result rejected", {
        taskId: task.id,
        deviceId: session.deviceId,
        code: verdict.code,
      });
      this.assign(job.id, [task.id]);
      return rejected(verdict.code ?? "RESULT_REJECTED", verdict.reason ?? "rejected");
    }
    if (job.type === "sql-analytics") {
      // A well-formed replica waits for its fragment's quorum (docs/protocol.md §Analytics jobs).
      this.o.store.markReplicated(task.id, JSON.stringify(result.outputs));
      const outcome = (await this.decideFragment(job, task.idx)).get(task.id);
      if (outcome === "outvoted") {
        return rejected(
          "QUORUM_OUTVOTED",
          "other replicas of this fragment agreed on another result",
        );
      }
      if (outcome === undefined) {
        return { taskId: task.id, accepted: true, code: "QUORUM_PENDING", reward: "0" };
      }
      return { taskId: task.id, accepted: true, reward: formatDpn(outcome) };
    }
    if (job.type === "fl-train") {
      const spec = this.specOf(job) as FlSpec;
      const original = spotOriginal(task.id);
      const checkable = spec.mode !== "async" && spec.privacy === undefined;
      if (checkable && (original !== undefined || this.needsSpotCheck(job, spec, task))) {
        // Paid only once another holder's re-execution agrees (docs/protocol.md §Federated
        // learning jobs, spot re-execution).
        this.o.store.markReplicated(task.id, JSON.stringify(result.outputs));
        const outcome = await this.decideSpot(job, spec, original ?? task.id);
        const mine = outcome.get(task.id);
        if (mine === "outvoted") {
          return rejected("SPOT_CHECK_FAILED", "a re-execution of this task disagreed with it");
        }
        if (mine === undefined) {
          return { taskId: task.id, accepted: true, code: "SPOT_CHECK_PENDING", reward: "0" };
        }
        return { taskId: task.id, accepted: true, reward: formatDpn(mine) };
      }
    }
    this.o.store.markSettling(task.id, JSON.stringify(result.outputs));
    const paid = await this.settle(task.id, session);
    return { taskId: task.id, accepted: true, reward: formatDpn(paid) };
  }

  /**
   * Decides one analytics fragment from the replicas returned so far (docs/protocol.md §Analytics
   * jobs): on a quorum the agreeing replicas are paid like any verified task, the outvoted ones
   * lose reputation and are not paid, and replicas still out are withdrawn; without one, more
   * replicas are placed (each with its own hold), up to the policy's limit; an inconclusive
   * fragment stops the job. Returns what happened to each returned replica (reward or outvoted).
   */
  private async decideFragment(
    job: JobRow,
    idx: number,
  ): Promise<Map<string, bigint | "outvoted">> {
    const outcome = new Map<string, bigint | "outvoted">();
    const siblings = this.o.store.tasksOf(job.id).filter((t) => t.idx === idx);
    if (siblings.some((t) => t.state === "done" || t.state === "settling")) return outcome;
    const returned = siblings.filter((t) => t.state === "replicated" && t.device_id !== null);
    const votes = returned.map((t) => ({
      deviceId: t.device_id as string,
      digest: (JSON.parse(t.output_json ?? "[]") as Array<{ digest: string }>)[0]?.digest ?? "",
      reputation:
        this.sessions.get(t.device_id as string)?.reputation ??
        this.deviceReputation(t.device_id as string),
    }));
    const decision = fragmentDecision(job.seed, idx, votes);
    const open = siblings.filter((t) => t.state === "pending" || t.state === "leased");
    if (decision.status === "accepted") {
      for (const task of returned) {
        const deviceId = task.device_id as string;
        if (decision.agreeing.includes(deviceId)) {
          this.o.store.markSettling(task.id, task.output_json ?? "[]");
          outcome.set(task.id, await this.settle(task.id, this.sessions.get(deviceId)));
        } else {
          this.penalise(deviceId);
          this.o.store.setTaskState(task.id, "outvoted");
          await this.releaseHolds([task]);
          outcome.set(task.id, "outvoted");
          this.o.log("warn", "replica outvoted", { taskId: task.id, deviceId });
        }
      }
      // Replicas still out are no longer needed: withdraw them and return their holds.
      for (const task of open) this.withdraw(task);
      await this.releaseHolds(open);
      this.finishIfComplete(job.id);
      this.jobEvents.emit("job", job.id);
      return outcome;
    }
    if (decision.status === "inconclusive") {
      this.o.log("warn", "no quorum for an analytics fragment; the job stops", {
        jobId: job.id,
        idx,
      });
      for (const task of returned) {
        this.o.store.setTaskState(task.id, "outvoted");
        await this.releaseHolds([task]);
        outcome.set(task.id, "outvoted");
      }
      await this.cancelJob(job.requester, job.id, "cancelled");
      return outcome;
    }
    const missing = decision.additionalReplicas - open.length;
    if (missing > 0) await this.addReplicas(job, siblings, missing);
    return outcome;
  }

  /** A synchronous update is re-executed when selected and another holder is online. */
  private needsSpotCheck(job: JobRow, spec: FlSpec, task: TaskRow): boolean {
    if (!selectedForSpotCheck(job.seed, task.id, spec)) return false;
    const entry = flSchedule(job.seed, spec)[task.idx];
    const holding = requiredHolding(spec, entry?.partition ?? "");
    return [...this.sessions.values()].some(
      (s) => s.deviceId !== task.device_id && s.datasets.includes(holding),
    );
  }

  /**
   * Decides a spot-checked update from the runs returned so far: the original and its
   * re-executions (same base model, same seed, another holder of the partition). A re-execution
   * within SPOT_TOLERANCE of the original confirms it: both are paid, the original's update
   * counts. If the re-executions agree with each other but not the original, the original is
   * outvoted (penalised, unpaid) and a re-execution's update counts instead. Otherwise another
   * re-execution is placed, up to MAX_SPOT_RUNS; past that, every run is refused.
   */
  private async decideSpot(
    job: JobRow,
    spec: FlSpec,
    originalId: string,
  ): Promise<Map<string, bigint | "outvoted">> {
    const outcome = new Map<string, bigint | "outvoted">();
    const original = this.o.store.task(originalId);
    if (original === undefined || original.state !== "replicated") return outcome;
    const family = this.o.store.tasksOf(job.id).filter((t) => spotOriginal(t.id) === originalId);
    const returned = family.filter((t) => t.state === "replicated");
    const updateOf = (t: TaskRow): Float32Array | undefined => {
      const admitted = admitUpdate(spec, JSON.parse(t.output_json ?? "[]") as unknown[]);
      return admitted.ok ? admitted.update : undefined;
    };
    const base = updateOf(original);
    const close = (a: Float32Array | undefined, b: Float32Array | undefined): boolean =>
      a !== undefined && b !== undefined && updateDistance(a, b) <= SPOT_TOLERANCE;
    const settle = async (t: TaskRow): Promise<void> => {
      this.o.store.markSettling(t.id, t.output_json ?? "[]");
      outcome.set(t.id, await this.settle(t.id, this.sessions.get(t.device_id ?? "")));
    };
    const refuse = async (t: TaskRow): Promise<void> => {
      if (t.device_id !== null) this.penalise(t.device_id);
      this.o.store.setTaskState(t.id, "outvoted");
      await this.releaseHolds([t]);
      outcome.set(t.id, "outvoted");
      this.o.log("warn", "spot re-execution disagreed", { taskId: t.id, deviceId: t.device_id });
    };
    const confirming = returned.find((t) => close(base, updateOf(t)));
    if (confirming !== undefined) {
      for (const t of returned) if (t !== confirming) await refuse(t);
      // The original first: its update is the one the round aggregates.
      await settle(original);
      await settle(confirming);
      return outcome;
    }
    const [first, second] = returned;
    if (first !== undefined && second !== undefined && close(updateOf(first), updateOf(second))) {
      await refuse(original);
      await settle(first);
      await settle(second);
      return outcome;
    }
    const open = family.filter((t) => t.state === "pending" || t.state === "leased");
    if (open.length > 0) return outcome;
    if (family.length >= MAX_SPOT_RUNS) {
      for (const t of [original, ...returned]) await refuse(t);
      await this.advanceFl(job);
      return outcome;
    }
    await this.addSpotRun(job, original, family);
    return outcome;
  }

  /** Places one more re-execution of `original` on a holder that has not run it yet. */
  private async addSpotRun(
    job: JobRow,
    original: TaskRow,
    family: readonly TaskRow[],
  ): Promise<void> {
    const economics = await this.economics();
    const id = `${original.id}.spot${family.length + 1}`;
    const excluded = [original, ...family]
      .map((t) => t.device_id)
      .filter((d): d is string => d !== null);
    const run = newTask({
      id,
      jobId: job.id,
      idx: original.idx,
      items: [original.item_from, original.item_to],
      cu: original.cu,
      holdAmount: priceDpn(original.cu, economics.rate) * 2n,
      excluded,
    });
    try {
      await this.fund(job, [run]);
    } catch (error) {
      if (!isDpnError(error, "LEDGER_INSUFFICIENT_FUNDS")) throw error;
      // No funds to check it: the update stands unchecked rather than stalling the round.
      await this.releaseHolds([run]);
      this.o.store.markSettling(original.id, original.output_json ?? "[]");
      await this.settle(original.id, this.sessions.get(original.device_id ?? ""));
      return;
    }
    this.o.store.insertTasks([run]);
    this.assign(job.id, [id]);
    this.dispatch();
  }

  /** Places `count` more replicas of a fragment, each with a hold of twice its price now. */
  private async addReplicas(
    job: JobRow,
    siblings: readonly TaskRow[],
    count: number,
  ): Promise<void> {
    const template = siblings[0];
    if (template === undefined) return;
    const economics = await this.economics();
    const amount = priceDpn(template.cu, economics.rate) * 2n;
    const created: TaskRow[] = [];
    for (let n = 0; n < count; n++) {
      const id = `${job.id}.${template.idx}.r${siblings.length + n}`;
      created.push(
        newTask({
          id,
          jobId: job.id,
          idx: template.idx,
          items: [template.item_from, template.item_to],
          cu: template.cu,
          holdAmount: amount,
        }),
      );
    }
    try {
      await this.fund(job, created);
    } catch (error) {
      if (!isDpnError(error, "LEDGER_INSUFFICIENT_FUNDS")) throw error;
      await this.releaseHolds(created);
      this.o.log("warn", "no funds for another replica; the job stops", { jobId: job.id });
      await this.cancelJob(job.requester, job.id, "budget-exhausted");
      return;
    }
    this.o.store.insertTasks(created);
    this.o.log("info", "replicas added for a disputed fragment", {
      jobId: job.id,
      idx: template.idx,
      count,
    });
    this.assign(
      job.id,
      created.map((t) => t.id),
    );
    this.dispatch();
  }

  /** Takes a pending or leased task away from every device (it will not be needed). */
  private withdraw(task: TaskRow): void {
    this.o.store.setTaskState(task.id, "cancelled");
    for (const session of this.sessions.values()) {
      session.leased.delete(task.id);
      const at = session.queue.indexOf(task.id);
      if (at !== -1) session.queue.splice(at, 1);
    }
  }

  /** A device's result was refused (or outvoted): its reputation falls, it is not paid. */
  private penalise(deviceId: string): void {
    const session = this.sessions.get(deviceId);
    const device = this.o.store.device(deviceId);
    const reputation = afterRejected(
      session?.reputation ?? device?.reputation ?? INITIAL_REPUTATION,
    );
    if (session !== undefined) session.reputation = reputation;
    this.o.store.recordDeviceOutcome(
      deviceId,
      false,
      reputation,
      BigInt(device?.earned ?? "0"),
      0,
      this.o.now(),
      session?.runStartMs ?? device?.run_start_ms ?? this.o.now(),
    );
  }

  private async verify(job: JobRow, task: TaskRow, outputs: readonly unknown[]): Promise<Verdict> {
    const spec = this.specOf(job);
    if (spec.type === "sql-analytics") {
      const checked = checkAnalyticsOutput(analyticsQuery(spec), outputs);
      return checked.ok ? { ok: true } : checked;
    }
    if (spec.type === "fl-train") {
      const admitted = admitUpdate(spec, outputs);
      return admitted.ok ? { ok: true } : admitted;
    }
    if (spec.type === "fl-features") {
      const admitted = admitFeatureSet(outputs);
      if (!admitted.ok) return admitted;
      // Stored as an artifact so training jobs can lease it by content hash.
      const bytes = featureSetBytes(JSON.stringify(outputs));
      const sha = createHash("sha256").update(bytes).digest("hex");
      if (!this.o.artifacts.has(sha)) {
        this.o.artifacts.put(bytes, sha);
        this.o.store.recordArtifact(sha, bytes.length, "node", this.o.now());
      }
      return { ok: true };
    }
    if (spec.type === "render") return { ok: false, code: "JOB_INVALID", reason: "not served" };
    if (spec.type === "hash")
      return this.o.verifier.verifyHash(spec.items.slice(task.item_from, task.item_to), outputs);
    return this.o.verifier.verifyGroth16(
      {
        verificationKeyPath: this.o.artifacts.path(spec.artifacts.verificationKey),
        publicInputs: spec.publicInputs,
        items: spec.items.slice(task.item_from, task.item_to),
        expectedPublicSignals: spec.expectedPublicSignals?.slice(task.item_from, task.item_to),
      },
      outputs,
    );
  }

  /**
   * Pays for a verified task: the requester's hold is captured at the current rate and split
   * (burn / fund / reserve), and the device's owner is minted its reward. Both postings carry
   * keys derived from the task id: a retry after a crash can never pay twice. Returns the reward.
   */
  async settle(taskId: string, session: DeviceSession | undefined): Promise<bigint> {
    const task = this.o.store.task(taskId);
    if (task === undefined || task.state !== "settling" || task.device_id === null) return 0n;
    const device = this.o.store.device(task.device_id);
    if (device === undefined)
      throw new Error(`settling task ${taskId} of unknown device ${task.device_id}`);
    const economics = await this.economics();
    const now = this.o.now();
    const holdAmount = BigInt(task.hold_amount);
    const price = priceDpn(task.cu, economics.rate);
    const charged = price < holdAmount ? price : holdAmount;
    const run = advanceRun(
      { runStartMs: device.run_start_ms, lastActiveMs: device.last_active_ms },
      now,
      this.o.params.decay,
    );
    const minted = reward(
      {
        cu: task.cu,
        deviceClass: device.device_class as DeviceClass,
        operatingDays: operatingDays(run, now),
      },
      economics.rate,
      this.o.params.decay,
    ).amount;
    // The capture and the mint are independent postings: submitted together, they share a commit.
    const capture = this.o.ledger.capturePayment({
      idempotencyKey: `${task.id}:pay`,
      holdId: task.hold_id,
      amount: charged,
      burnBps: economics.burning.burnBps,
      antiMonopolyFundBps: this.o.params.payments.antiMonopolyFundBps,
    });
    const mint =
      minted > 0n
        ? this.o.ledger
            .mint({
              idempotencyKey: `${task.id}:mint`,
              to: owner(device.owner),
              amount: minted,
              receiptId: task.id,
            })
            .then(
              () => minted,
              (error: unknown) => {
                // An exhausted emission pool stops rewards, not verification: the requester still pays.
                if (!isDpnError(error, "LEDGER_MINT_EXCEEDS_POOL")) throw error;
                this.o.log("warn", "emission pool exhausted; no reward minted", { taskId });
                return 0n;
              },
            )
        : Promise.resolve(0n);
    const [, paid] = await Promise.all([capture, mint]);
    const reputation = afterAccepted(session?.reputation ?? device.reputation);
    if (session !== undefined) {
      session.reputation = reputation;
      session.runStartMs = run.runStartMs;
      session.lastActiveMs = now;
    }
    this.o.store.transaction(() => {
      this.o.store.markDone(task.id, charged, paid, now);
      this.o.store.recordDeviceOutcome(
        device.id,
        true,
        reputation,
        BigInt(device.earned) + paid,
        task.cu,
        now,
        run.runStartMs,
      );
    });
    this.jobEvents.emit("job", task.job_id);
    const settledJob = this.requireJob(task.job_id);
    if (settledJob.type === "fl-train") {
      await this.advanceFl(settledJob, false, task);
    } else if (price > holdAmount) {
      const job = this.requireJob(task.job_id);
      await this.cancelJob(job.requester, job.id, "budget-exhausted");
    } else {
      this.finishIfComplete(task.job_id);
    }
    return paid;
  }

  private finishIfComplete(jobId: string): void {
    const tasks = this.o.store.tasksOf(jobId);
    // Done when every fragment has a done task and nothing is still running; replicas that were
    // outvoted or withdrawn do not hold a job open.
    const fragments = new Set(tasks.map((t) => t.idx));
    const done = new Set(tasks.filter((t) => t.state === "done").map((t) => t.idx));
    const running = tasks.some(
      (t) =>
        t.state === "pending" ||
        t.state === "leased" ||
        t.state === "settling" ||
        t.state === "replicated",
    );
    if (done.size === fragments.size && !running) {
      const job = this.requireJob(jobId);
      if (job.state === "open") {
        this.o.store.setJobState(jobId, "done", this.o.now());
        this.jobEvents.emit("job", jobId);
        this.o.log("info", "job done", { jobId });
      }
    }
  }

  // ---- devices ------------------------------------------------------------------------------

  async connect(session: DeviceSession): Promise<void> {
    // The owner's account receives the device's rewards; open it before any work is settled.
    await this.o.ledger.openAccount(owner(session.owner));
    const previous = this.sessions.get(session.deviceId);
    if (previous !== undefined) this.disconnect(previous.deviceId);
    this.sessions.set(session.deviceId, session);
    // Work that waited for a device can go now.
    for (const job of this.o.store.jobsInState("open")) {
      const waiting = this.o.store
        .tasksOf(job.id)
        .filter((t) => t.state === "pending" && !this.isQueued(t.id));
      if (waiting.length > 0)
        this.assign(
          job.id,
          waiting.map((t) => t.id),
        );
    }
    this.dispatch();
  }

  private isQueued(taskId: string): boolean {
    for (const s of this.sessions.values()) if (s.queue.includes(taskId)) return true;
    return false;
  }

  /** A device left: its leases move to other devices at once. */
  disconnect(deviceId: string): void {
    const session = this.sessions.get(deviceId);
    if (session === undefined) return;
    this.sessions.delete(deviceId);
    const moved = [...session.leased, ...session.queue];
    for (const taskId of session.leased) {
      const task = this.o.store.task(taskId);
      if (task?.state === "leased")
        this.o.store.requeueTask(taskId, JSON.parse(task.excluded_json) as string[]);
    }
    this.reassign(moved);
    this.o.log("info", "device disconnected", { deviceId, moved: moved.length });
  }

  /** device.ready adds credit: the device may hold that many more leases (flow control). */
  ready(session: DeviceSession, slots: number): void {
    session.credit = Math.min(session.credit + slots, MAX_CREDIT);
    this.dispatch();
  }

  heartbeat(session: DeviceSession, activeTaskIds: readonly string[]): void {
    const until = this.o.now() + this.o.leaseMs;
    this.o.store.transaction(() => {
      for (const taskId of activeTaskIds)
        if (session.leased.has(taskId)) this.o.store.extendLease(taskId, until);
    });
  }

  /** Moves expired leases elsewhere and ends jobs past their deadline. Call periodically. */
  async sweep(): Promise<void> {
    if (this.closing.value) return;
    const now = this.o.now();
    const expired: string[] = [];
    for (const task of this.o.store.tasksInState("leased")) {
      if (task.lease_expires_ms !== null && task.lease_expires_ms < now) {
        const session = task.device_id === null ? undefined : this.sessions.get(task.device_id);
        if (session !== undefined) {
          session.leased.delete(task.id);
          session.reputation = afterLeaseExpired(session.reputation);
        }
        if (task.device_id !== null) {
          const reputation =
            session?.reputation ?? afterLeaseExpired(this.deviceReputation(task.device_id));
          this.o.store.setReputation(task.device_id, reputation);
        }
        this.o.store.requeueTask(task.id, JSON.parse(task.excluded_json) as string[]);
        expired.push(task.id);
      }
    }
    if (expired.length > 0) {
      this.o.log("warn", "leases expired", { tasks: expired.length });
      this.reassign(expired);
    }
    for (const job of this.o.store.jobsInState("open")) {
      if (job.deadline_ms < now) await this.cancelJob(job.requester, job.id, "expired");
    }
    // A federated round closes at its deadline with the updates it has (FedAvg's deadline).
    for (const [jobId, openedAt] of this.roundOpenedAt) {
      const job = this.o.store.job(jobId);
      if (job === undefined || job.state !== "open") {
        this.roundOpenedAt.delete(jobId);
        continue;
      }
      const spec = this.specOf(job) as FlSpec;
      if (now - openedAt >= (spec.roundDeadlineMs ?? DEFAULT_ROUND_DEADLINE_MS)) {
        await this.advanceFl(job, true);
      }
    }
    // Epochs advance with time, not only when jobs arrive: rate history, the burning
    // controller and the reserve keep acting on an idle network.
    await this.economics();
    this.dispatch();
  }

  private rebalancing = false;

  /**
   * Work queued at a device that has not asked for any (no credit) moves to devices that are
   * waiting for work, so a slow or silent device cannot sit on tasks while others idle.
   */
  private rebalance(): void {
    if (this.rebalancing) return;
    const idle = [...this.sessions.values()].some((s) => s.credit > 0 && s.queue.length === 0);
    if (!idle) return;
    const stalled: string[] = [];
    for (const session of this.sessions.values()) {
      if (session.credit === 0 && session.queue.length > 0)
        stalled.push(...session.queue.splice(0));
    }
    if (stalled.length === 0) return;
    this.rebalancing = true;
    try {
      this.reassign(stalled);
    } finally {
      this.rebalancing = false;
    }
  }

  private reassign(taskIds: readonly string[]): void {
    for (const session of this.sessions.values()) {
      for (const taskId of taskIds) {
        const at = session.queue.indexOf(taskId);
        if (at !== -1) session.queue.splice(at, 1);
      }
    }
    const byJob = new Map<string, string[]>();
    for (const taskId of taskIds) {
      const task = this.o.store.task(taskId);
      if (task?.state !== "pending") continue;
      byJob.set(task.job_id, [...(byJob.get(task.job_id) ?? []), taskId]);
    }
    for (const [jobId, ids] of byJob) this.assign(jobId, ids);
    this.dispatch();
  }

  /**
   * After a restart: jobs whose holds were not all placed are funded again (idempotently),
   * results verified but not paid are settled (idempotently), and leases are void: their tasks
   * go back to pending and are assigned when devices reconnect.
   */
  async recover(): Promise<void> {
    for (const job of this.o.store.jobsInState("funding")) {
      const tasks = this.o.store.tasksOf(job.id);
      await this.fund(job, tasks);
      this.o.store.setJobState(job.id, "open");
    }
    for (const task of this.o.store.tasksInState("settling")) await this.settle(task.id, undefined);
    // Federated jobs: the open round's deadline restarts now; a round that completed just
    // before the crash closes.
    for (const job of this.o.store.jobsInState("open")) {
      if (job.type !== "fl-train") continue;
      this.roundOpenedAt.set(job.id, this.o.now());
      await this.advanceFl(job);
    }
    // Analytics replicas that returned before a crash: decide their fragments again.
    for (const task of this.o.store.tasksInState("replicated")) {
      const job = this.o.store.job(task.job_id);
      if (job !== undefined && job.state === "open") await this.decideFragment(job, task.idx);
    }
    for (const task of this.o.store.tasksInState("leased")) {
      this.o.store.requeueTask(task.id, JSON.parse(task.excluded_json) as string[]);
    }
  }

  close(): void {
    this.closing.value = true;
  }

  /** Registration facts of a device, for a new session. */
  deviceReputation(deviceId: string): number {
    return this.o.store.device(deviceId)?.reputation ?? INITIAL_REPUTATION;
  }
}

function notServed(type: string): DpnError {
  return new DpnError("JOB_INVALID", `This node does not serve ${type} jobs yet.`, {
    hint: "Use another task type.",
  });
}

/** A task not yet run: its own hold, no device, no output. */
function newTask(t: {
  readonly id: string;
  readonly jobId: string;
  readonly idx: number;
  /** Item range [from, to) of the job's items. */
  readonly items: readonly [number, number];
  readonly cu: number;
  readonly holdAmount: bigint;
  readonly state?: TaskRow["state"];
  readonly excluded?: readonly string[];
}): TaskRow {
  return {
    id: t.id,
    job_id: t.jobId,
    idx: t.idx,
    item_from: t.items[0],
    item_to: t.items[1],
    cu: t.cu,
    state: t.state ?? "pending",
    device_id: null,
    attempt: 0,
    lease_expires_ms: null,
    hold_id: `hold:${t.id}`,
    hold_amount: t.holdAmount.toString(),
    output_json: null,
    price: null,
    reward: null,
    excluded_json: JSON.stringify(t.excluded ?? []),
    done_ms: null,
  };
}

/** A job's row as accepted: funding until its holds are placed. */
function newJob(j: {
  readonly jobId: string;
  readonly requester: string;
  readonly submit: JobSubmit;
  readonly now: number;
  readonly totalCu: number;
  readonly quote: bigint;
  readonly economics: EconomicsSnapshot;
  readonly tasks: number;
  readonly seed: string;
}): JobRow {
  return {
    id: j.jobId,
    requester: j.requester,
    client_ref: j.submit.clientRef,
    type: j.submit.spec.type,
    spec_json: JSON.stringify(j.submit.spec),
    budget: j.submit.budget,
    deadline_ms: j.submit.deadlineMs,
    state: "funding",
    created_ms: j.now,
    cu: j.totalCu,
    quote: j.quote.toString(),
    cu_per_dpn: j.economics.rate.cuPerDpn,
    fragments: j.tasks,
    seed: j.seed,
    assignment_json: "[]",
    finished_ms: null,
  };
}
