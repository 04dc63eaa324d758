import type { Ledger } from "@dpn/ledger";
import type { ProtocolParams, QuorumPolicy } from "@dpn/protocol";
import type { ItemOf, SpecOf, TaskTypeName } from "@dpn/wire";
import type { ArtifactStore } from "../artifactStore.ts";
import type { EconomicsSnapshot } from "../economics/rateService.ts";
import type { DeviceSession } from "../scheduler/session.ts";
import type { NodeStore } from "../store/open.ts";
import type { JobRow, JobState, TaskRow } from "../store/schema.ts";
import type { VerifyPool } from "../verify/pool.ts";

/**
 * A task kind (docs/protocol.md §Task kinds): everything the node knows about one type of work,
 * behind one interface, so that the job lifecycle, the scheduler and settlement never name a
 * kind. Modelled on graphile-worker's task list: the registry (registry.ts) maps each task type
 * to its kind, and a type without one does not compile.
 *
 * A kind plans a job into tasks, says which online device may take a task, builds the lease,
 * verifies what comes back, chooses how a verified result is accepted (at once, or by a
 * replication quorum), reacts when a task of its job ends, and builds the job's result.
 */
export interface TaskKind<T extends TaskTypeName> {
  readonly type: T;
  /** Validates the spec (coded errors naming the field) and splits the job into tasks. */
  plan(input: PlanInput<T>): Promise<JobPlan>;
  /** Whether this online device may take the task, beyond its class, layer and kinds offered. */
  accepts?(device: DeviceSession, task: TaskRow, job: KindJob<T>): Promise<boolean>;
  /** The lease is granted to `device`: act on it (charge a privacy budget, note a version). */
  leased?(device: DeviceSession, task: TaskRow, job: KindJob<T>): Promise<void>;
  /** What the device receives for the task. */
  lease(task: TaskRow, job: KindJob<T>): Promise<LeaseBody<T>>;
  /** Checks a task's outputs before anything is paid. */
  verify(task: TaskRow, outputs: readonly unknown[], job: KindJob<T>): Promise<Verdict>;
  /**
   * How a verified result of this task is accepted: undefined, at once; otherwise by the
   * replication quorum of its fragment (settlement/quorum.ts).
   */
  replication?(task: TaskRow, job: KindJob<T>): Replication | undefined;
  /**
   * A task of the job ended (settled, outvoted, failed or withdrawn). Kinds that finish their
   * jobs themselves (`finishes: "self"`) decide here; the others need not implement it.
   */
  ended?(task: TaskRow, job: KindJob<T>): Promise<void>;
  /**
   * "tasks": the job is done when every fragment has a done task and nothing runs (default);
   * "self": the kind finishes the job (a federated job, once its last round closes).
   */
  readonly finishes?: "tasks" | "self";
  /** When a task runs out of attempts: the job fails (default), or it goes on without it. */
  readonly whenTaskFails?: "fail-job" | "continue";
  /** The job's outputs (per item, in order) and the kind's merged result, if any. */
  result(job: KindJob<T>, tasks: readonly TaskRow[]): Promise<KindResult>;
  /** Periodic work of the kind (round deadlines). */
  sweep?(nowMs: number): Promise<void>;
  /** After a restart, before devices reconnect. */
  recover?(): Promise<void>;
}

export interface KindJob<T extends TaskTypeName> {
  readonly row: JobRow;
  readonly spec: SpecOf<T>;
}

export interface PlanInput<T extends TaskTypeName> {
  readonly spec: SpecOf<T>;
  /** Who submits the job: the inputs it names must be artifacts this account may use. */
  readonly requester: string;
  readonly jobId: string;
  readonly seed: string;
  readonly nowMs: number;
  /** Online devices that could take this kind now (for ⌈log2 N⌉ splitting). */
  readonly eligibleDevices: number;
}

/** One task as planned: its fragment, replica number, item range, CU and first state. */
export interface PlannedTask {
  readonly idx: number;
  readonly replica: number;
  readonly items: readonly [number, number];
  readonly cu: number;
  readonly state: "pending" | "waiting";
}

export interface JobPlan {
  readonly tasks: readonly PlannedTask[];
  /** State the kind keeps on the job (read back as JSON from the job row). */
  readonly kindData?: unknown;
  /** Runs before the job's rows are written (an FL job's round 0); undone if opening fails. */
  readonly prepare?: (jobId: string) => Promise<void>;
  readonly undo?: (jobId: string) => Promise<void>;
}

export interface LeaseBody<T extends TaskTypeName> {
  /** Role → content hash of each artifact the device fetches. */
  readonly artifacts: Readonly<Record<string, string>>;
  readonly items: ItemOf<T>[];
}

export type Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly reason: string };

export interface KindResult {
  readonly outputs: unknown[];
  readonly result?: unknown;
}

/** How a kind's replicated results are decided (docs/protocol.md §Replication quorum). */
export interface Replication {
  readonly policy: QuorumPolicy;
  /**
   * Whether this fragment is spot-checked (needs two agreeing replicas although its first
   * device's reputation alone would do), drawn from the job's seed: auditable, unguessable.
   */
  spotCheck(firstReputation: number): boolean;
  /** Whether two verified results (tasks of one fragment, outputs stored) agree. */
  agree(a: TaskRow, b: TaskRow): Promise<boolean>;
  /**
   * No quorum within policy.maxReplicas: "fail-job" (the job fails: QUORUM_INCONCLUSIVE), or
   * "drop" (the fragment has no result; the kind's `ended` decides what follows).
   */
  readonly inconclusive: "fail-job" | "drop";
  /**
   * The requester cannot fund another replica: "stop-job" (budget-exhausted), or
   * "accept-leader" (the results so far stand unchecked, rather than stall the job).
   */
  readonly unfunded: "stop-job" | "accept-leader";
  /** The verdict codes a device sees while its result waits, and when it was outvoted. */
  readonly codes: { readonly pending: string; readonly outvoted: string; readonly reason: string };
}

/** What kinds may use and do: the node's parts, and the lifecycle actions they need. */
export interface KindContext {
  readonly store: NodeStore;
  readonly ledger: Ledger;
  readonly artifacts: ArtifactStore;
  readonly params: ProtocolParams;
  readonly verifyPool: VerifyPool;
  now(): number;
  log(level: "info" | "warn", message: string, data?: Record<string, unknown>): void;
  /** The rate and burn decision in force. */
  economics(): Promise<EconomicsSnapshot>;
  /** Devices online now (read only). */
  online(): Iterable<DeviceSession>;
  /** A device's reputation, online or not. */
  reputationOf(deviceId: string): Promise<number>;
  /** Opens waiting tasks (waiting → pending) and schedules them. */
  openTasks(taskIds: readonly string[]): Promise<void>;
  /** Takes back tasks not yet returned (cancelled, holds released). */
  withdraw(tasks: readonly TaskRow[]): Promise<void>;
  /** Ends an open job in a final state; its tasks not yet returned are withdrawn. */
  finishJob(jobId: string, state: JobState, failure?: string): Promise<void>;
  /** The job changed: its event stream sends the new view. */
  changed(jobId: string): void;
  /** The parsed spec of a job of this node. */
  specOf<T extends TaskTypeName>(job: JobRow): SpecOf<T>;
}

/** A kind is made once per node, with the node's context. */
export type KindFactory<T extends TaskTypeName> = (context: KindContext) => TaskKind<T>;
