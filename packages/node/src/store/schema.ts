/**
 * The node's tables (devices, jobs, tasks, artifacts, rate and oracle history, and the tables
 * kinds keep) as Kysely types, one schema for SQLite and PostgreSQL. Token balances never live
 * here: the ledger owns them. Times are integer milliseconds; CU are floating point; DPN amounts
 * are decimal strings of base units.
 */

export type JobState =
  | "funding"
  | "open"
  | "done"
  | "cancelled"
  | "expired"
  | "budget-exhausted"
  | "failed";

/**
 * `waiting`: not yet open (a later federated round); `verifying`: a result arrived and is being
 * checked; `replicated`: verified, waiting for its fragment's quorum; `settling`: accepted, its
 * price and reward fixed, being paid; `outvoted`: the quorum accepted another result (unpaid);
 * `failed`: out of attempts (MAX_TASK_ATTEMPTS) or refused for good.
 */
export type TaskState =
  | "waiting"
  | "pending"
  | "leased"
  | "verifying"
  | "replicated"
  | "settling"
  | "done"
  | "outvoted"
  | "cancelled"
  | "failed";

export interface DevicesTable {
  id: string;
  owner: string;
  device_class: string;
  declared_class: string;
  layer: string;
  long_tail: number;
  geohash: string;
  fingerprint: string;
  cu_per_sec: number;
  reputation: number;
  run_start_ms: number;
  last_active_ms: number;
  registered_ms: number;
  ed25519: Uint8Array;
  mldsa44: Uint8Array;
  accepted: number;
  rejected: number;
  earned: string;
  cu_delivered: number;
  /** Refused results in the quarantine window opened at strike_window_ms (@dpn/protocol). */
  strikes: number;
  strike_window_ms: number;
  quarantines: number;
  /** The end of the device's current or last quarantine; 0 if none. */
  quarantined_until_ms: number;
  /** Why the class and layer are what they are (the measurement, or the reclassification). */
  class_reason: string;
  /** Why this machine was classified a rig, if it was; shared by every key of its fingerprint. */
  rig_reason: string | null;
  /** What the capability challenge proved: parallel lanes and committed memory (MiB). */
  lanes: number;
  memory_mib: number;
  /** The sustained-rate check's tumbling window (@dpn/protocol sustainedDelivery). */
  window_start_ms: number;
  window_cu: number;
}

export interface JobsTable {
  id: string;
  requester: string;
  client_ref: string;
  type: string;
  spec_json: string;
  budget: string;
  deadline_ms: number;
  state: JobState;
  created_ms: number;
  cu: number;
  quote: string;
  cu_per_dpn: number;
  fragments: number;
  seed: string;
  /** Unused since assignments have their own table; kept for databases made before it. */
  assignment_json: string;
  finished_ms: number | null;
  /** The stable code of why the job failed or stopped early. */
  failure: string | null;
  /** State the job's kind keeps about it (JSON), read and written only by that kind. */
  kind_data: string | null;
}

export interface TasksTable {
  id: string;
  job_id: string;
  /** The fragment: replicas of one fragment share it. */
  idx: number;
  item_from: number;
  item_to: number;
  cu: number;
  state: TaskState;
  device_id: string | null;
  /** Leases granted so far; the current lease is the attempt-th. */
  attempt: number;
  lease_expires_ms: number | null;
  /** When the current lease was granted (heartbeats never renew it beyond MAX_LEASE_RENEWALS). */
  lease_started_ms: number | null;
  hold_id: string;
  hold_amount: string;
  output_json: string | null;
  /** Fixed when the task becomes settling, so a retried payment posts the same amounts. */
  price: string | null;
  reward: string | null;
  /** The burn rate in force when the amounts were fixed (basis points). */
  burn_bps: number | null;
  excluded_json: string;
  done_ms: number | null;
  /** 0 for a fragment's first task, 1… for the replicas placed after it. */
  replica: number;
  failure: string | null;
  /** Why the reward fixed on the task was not minted (EMISSION_POOL_EXHAUSTED), when it was not. */
  reward_withheld: string | null;
  /** State the task's kind keeps about it (JSON). */
  kind_data: string | null;
}

export interface ArtifactsTable {
  sha256: string;
  bytes: number;
  uploaded_by: string;
  created_ms: number;
}

/** Who may read an artifact beyond the devices leased a task that needs it (artifactAccess.ts). */
export interface ArtifactGrantsTable {
  sha256: string;
  account: string;
  /** 1 when this account published the artifact at upload: then anyone may read it. */
  public: number;
  created_ms: number;
}

export interface RatesTable {
  at_ms: number;
  json: string;
}

export interface OracleRoundsTable {
  oracle: string;
  at_ms: number;
  value: number | null;
  median: number | null;
  status: string;
  json: string;
}

export interface ReserveOperationsTable {
  at_ms: number;
  action: string;
  json: string;
}

/** One epoch of the reserve's interest and buyback (economics/buyback.ts), as JSON. */
export interface ReserveInterestTable {
  at_ms: number;
  json: string;
}

export interface AssignmentsTable {
  job_id: string;
  seq: number;
  at_ms: number;
  tasks_json: string;
  input_json: string;
  picks_json: string;
}

export interface FlRoundsTable {
  job_id: string;
  round: number;
  /** Global weights after the round, float32 little-endian, base64; "" once pruned. */
  weights: string;
  accuracy: number | null;
  loss: number | null;
  updates: number;
  closed_ms: number;
}

export interface PrivacyBudgetsTable {
  device_id: string;
  dataset: string;
  json: string;
}

/**
 * What a job's assignment seed was drawn from (docs/protocol.md §Assignment seed): the signed
 * submission as received (envelope JSON and the sender's keys, base64), the SHA-256 of its
 * signed bytes, and the last sealed ledger epoch when the job was accepted (0 and the genesis
 * root while none was; its seal time null then).
 */
export interface JobSubmissionsTable {
  job_id: string;
  envelope_json: string;
  ed25519_public_key: string;
  mldsa44_public_key: string;
  digest: string;
  epoch: number;
  epoch_root: string;
  epoch_sealed_ms: number | null;
}

export interface NodeDatabase {
  devices: DevicesTable;
  jobs: JobsTable;
  tasks: TasksTable;
  artifacts: ArtifactsTable;
  artifact_grants: ArtifactGrantsTable;
  rates: RatesTable;
  oracle_rounds: OracleRoundsTable;
  reserve_operations: ReserveOperationsTable;
  reserve_interest: ReserveInterestTable;
  assignments: AssignmentsTable;
  fl_rounds: FlRoundsTable;
  privacy_budgets: PrivacyBudgetsTable;
  job_submissions: JobSubmissionsTable;
}

export type JobRow = Readonly<JobsTable>;
export type TaskRow = Readonly<TasksTable>;
export type DeviceRow = Readonly<DevicesTable>;
export type FlRoundRow = Readonly<FlRoundsTable>;
export type JobSubmissionRow = Readonly<JobSubmissionsTable>;
