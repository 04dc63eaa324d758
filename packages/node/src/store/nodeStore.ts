import Database from "better-sqlite3";

/**
 * The node's own durable state (devices, jobs, tasks, artifacts, rate history) in SQLite, next to
 * the ledger's database. WAL with synchronous=FULL: a job is acknowledged only after its rows are
 * on disk. Token balances never live here; the ledger owns them.
 */
export type JobState = "funding" | "open" | "done" | "cancelled" | "expired" | "budget-exhausted";
/**
 * `waiting`: an fl-train task of a round not opened yet;
 * `replicated`: an analytics replica returned and waits for its fragment's quorum;
 * `outvoted`: the quorum accepted another result (not paid).
 */
export type TaskState =
  | "waiting"
  | "pending"
  | "leased"
  | "settling"
  | "replicated"
  | "done"
  | "outvoted"
  | "cancelled";

export interface DeviceRow {
  readonly id: string;
  readonly owner: string;
  readonly device_class: string;
  readonly declared_class: string;
  readonly layer: string;
  readonly long_tail: number;
  readonly geohash: string;
  readonly fingerprint: string;
  readonly cu_per_sec: number;
  readonly reputation: number;
  readonly run_start_ms: number;
  readonly last_active_ms: number;
  readonly registered_ms: number;
  readonly ed25519: Buffer;
  readonly mldsa44: Buffer;
  readonly accepted: number;
  readonly rejected: number;
  readonly earned: string;
  readonly cu_delivered: number;
}

export interface FlRoundRow {
  readonly job_id: string;
  readonly round: number;
  /** Global weights after the round, float32 little-endian, base64. */
  readonly weights: string;
  readonly accuracy: number | null;
  readonly loss: number | null;
  readonly updates: number;
  readonly closed_ms: number;
}

export interface JobRow {
  readonly id: string;
  readonly requester: string;
  readonly client_ref: string;
  readonly type: string;
  readonly spec_json: string;
  readonly budget: string;
  readonly deadline_ms: number;
  readonly state: JobState;
  readonly created_ms: number;
  readonly cu: number;
  readonly quote: string;
  readonly cu_per_dpn: number;
  readonly fragments: number;
  readonly seed: string;
  readonly assignment_json: string;
  readonly finished_ms: number | null;
}

export interface TaskRow {
  readonly id: string;
  readonly job_id: string;
  readonly idx: number;
  readonly item_from: number;
  readonly item_to: number;
  readonly cu: number;
  readonly state: TaskState;
  readonly device_id: string | null;
  readonly attempt: number;
  readonly lease_expires_ms: number | null;
  readonly hold_id: string;
  readonly hold_amount: string;
  readonly output_json: string | null;
  readonly price: string | null;
  readonly reward: string | null;
  readonly excluded_json: string;
  readonly done_ms: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, device_class TEXT NOT NULL, declared_class TEXT NOT NULL,
  layer TEXT NOT NULL, long_tail INTEGER NOT NULL, geohash TEXT NOT NULL, fingerprint TEXT NOT NULL,
  cu_per_sec REAL NOT NULL, reputation REAL NOT NULL, run_start_ms INTEGER NOT NULL,
  last_active_ms INTEGER NOT NULL, registered_ms INTEGER NOT NULL, ed25519 BLOB NOT NULL,
  mldsa44 BLOB NOT NULL, accepted INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,
  earned TEXT NOT NULL DEFAULT '0', cu_delivered REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS devices_fingerprint ON devices(fingerprint);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, requester TEXT NOT NULL, client_ref TEXT NOT NULL, type TEXT NOT NULL,
  spec_json TEXT NOT NULL, budget TEXT NOT NULL, deadline_ms INTEGER NOT NULL, state TEXT NOT NULL,
  created_ms INTEGER NOT NULL, cu REAL NOT NULL, quote TEXT NOT NULL, cu_per_dpn REAL NOT NULL,
  fragments INTEGER NOT NULL, seed TEXT NOT NULL, assignment_json TEXT NOT NULL, finished_ms INTEGER,
  UNIQUE (requester, client_ref));
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs(id), idx INTEGER NOT NULL,
  item_from INTEGER NOT NULL, item_to INTEGER NOT NULL, cu REAL NOT NULL, state TEXT NOT NULL,
  device_id TEXT, attempt INTEGER NOT NULL DEFAULT 0, lease_expires_ms INTEGER, hold_id TEXT NOT NULL,
  hold_amount TEXT NOT NULL, output_json TEXT, price TEXT, reward TEXT,
  excluded_json TEXT NOT NULL DEFAULT '[]', done_ms INTEGER);
CREATE INDEX IF NOT EXISTS tasks_job ON tasks(job_id, idx);
CREATE INDEX IF NOT EXISTS tasks_state ON tasks(state);
CREATE TABLE IF NOT EXISTS artifacts (
  sha256 TEXT PRIMARY KEY, bytes INTEGER NOT NULL, uploaded_by TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rates (at_ms INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oracle_rounds (oracle TEXT NOT NULL, at_ms INTEGER NOT NULL, value REAL,
  median REAL, status TEXT NOT NULL, json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS oracle_rounds_at ON oracle_rounds(oracle, at_ms);
CREATE INDEX IF NOT EXISTS rates_at ON rates(at_ms);
CREATE TABLE IF NOT EXISTS fl_rounds (job_id TEXT NOT NULL, round INTEGER NOT NULL,
  weights TEXT NOT NULL, accuracy REAL, loss REAL, updates INTEGER NOT NULL, closed_ms INTEGER NOT NULL,
  PRIMARY KEY (job_id, round));
CREATE TABLE IF NOT EXISTS privacy_budgets (device_id TEXT NOT NULL, dataset TEXT NOT NULL,
  json TEXT NOT NULL, PRIMARY KEY (device_id, dataset));
CREATE TABLE IF NOT EXISTS reserve_operations (at_ms INTEGER NOT NULL, action TEXT NOT NULL,
  json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reserve_operations_at ON reserve_operations(at_ms);
`;

export class NodeStore {
  readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = ON");
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- devices
  upsertDevice(row: Omit<DeviceRow, "accepted" | "rejected" | "earned" | "cu_delivered">): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, owner, device_class, declared_class, layer, long_tail, geohash, fingerprint,
           cu_per_sec, reputation, run_start_ms, last_active_ms, registered_ms, ed25519, mldsa44)
         VALUES (@id, @owner, @device_class, @declared_class, @layer, @long_tail, @geohash, @fingerprint,
           @cu_per_sec, @reputation, @run_start_ms, @last_active_ms, @registered_ms, @ed25519, @mldsa44)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, device_class = excluded.device_class,
           declared_class = excluded.declared_class, layer = excluded.layer, long_tail = excluded.long_tail,
           geohash = excluded.geohash, fingerprint = excluded.fingerprint, cu_per_sec = excluded.cu_per_sec,
           last_active_ms = excluded.last_active_ms`,
      )
      .run(row);
  }

  device(id: string): DeviceRow | undefined {
    return this.db.prepare("SELECT * FROM devices WHERE id = ?").get(id) as DeviceRow | undefined;
  }

  devices(): DeviceRow[] {
    return this.db.prepare("SELECT * FROM devices ORDER BY id").all() as DeviceRow[];
  }

  devicesWithFingerprint(fingerprint: string): number {
    const row = this.db
      .prepare("SELECT count(*) AS n FROM devices WHERE fingerprint = ?")
      .get(fingerprint) as { n: number };
    return row.n;
  }

  recordDeviceOutcome(
    id: string,
    accepted: boolean,
    reputation: number,
    earned: bigint,
    cu: number,
    nowMs: number,
    runStartMs: number,
  ): void {
    this.db
      .prepare(
        `UPDATE devices SET accepted = accepted + @a, rejected = rejected + @r, reputation = @reputation,
           earned = @earned, cu_delivered = cu_delivered + @cu, last_active_ms = @now, run_start_ms = @run
         WHERE id = @id`,
      )
      .run({
        id,
        a: accepted ? 1 : 0,
        r: accepted ? 0 : 1,
        reputation,
        earned: earned.toString(),
        cu,
        now: nowMs,
        run: runStartMs,
      });
  }

  setReputation(id: string, reputation: number): void {
    this.db.prepare("UPDATE devices SET reputation = ? WHERE id = ?").run(reputation, id);
  }

  // ---- jobs and tasks
  insertJob(job: JobRow, tasks: readonly TaskRow[]): void {
    this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO jobs VALUES (@id, @requester, @client_ref, @type, @spec_json, @budget, @deadline_ms,
             @state, @created_ms, @cu, @quote, @cu_per_dpn, @fragments, @seed, @assignment_json, @finished_ms)`,
        )
        .run(job);
      const insert = this.db.prepare(
        `INSERT INTO tasks VALUES (@id, @job_id, @idx, @item_from, @item_to, @cu, @state, @device_id, @attempt,
           @lease_expires_ms, @hold_id, @hold_amount, @output_json, @price, @reward, @excluded_json, @done_ms)`,
      );
      for (const task of tasks) insert.run(task);
    });
  }

  job(id: string): JobRow | undefined {
    return this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
  }

  jobByClientRef(requester: string, clientRef: string): JobRow | undefined {
    return this.db
      .prepare("SELECT * FROM jobs WHERE requester = ? AND client_ref = ?")
      .get(requester, clientRef) as JobRow | undefined;
  }

  jobsInState(...states: JobState[]): JobRow[] {
    return this.db
      .prepare(
        `SELECT * FROM jobs WHERE state IN (${states.map(() => "?").join(",")}) ORDER BY created_ms`,
      )
      .all(...states) as JobRow[];
  }

  recentJobs(limit: number): JobRow[] {
    return this.db
      .prepare("SELECT * FROM jobs ORDER BY created_ms DESC LIMIT ?")
      .all(limit) as JobRow[];
  }

  setJobState(id: string, state: JobState, finishedMs: number | null = null): void {
    this.db
      .prepare("UPDATE jobs SET state = ?, finished_ms = ? WHERE id = ?")
      .run(state, finishedMs, id);
  }

  tasksOf(jobId: string): TaskRow[] {
    return this.db
      .prepare("SELECT * FROM tasks WHERE job_id = ? ORDER BY idx")
      .all(jobId) as TaskRow[];
  }

  task(id: string): TaskRow | undefined {
    return this.db.prepare("SELECT * FROM tasks WHERE id = ?").get(id) as TaskRow | undefined;
  }

  tasksInState(state: TaskState): TaskRow[] {
    return this.db.prepare("SELECT * FROM tasks WHERE state = ?").all(state) as TaskRow[];
  }

  leaseTask(id: string, deviceId: string, leaseExpiresMs: number): void {
    this.db
      .prepare(
        "UPDATE tasks SET state = 'leased', device_id = ?, attempt = attempt + 1, lease_expires_ms = ? WHERE id = ?",
      )
      .run(deviceId, leaseExpiresMs, id);
  }

  extendLease(id: string, leaseExpiresMs: number): void {
    this.db
      .prepare("UPDATE tasks SET lease_expires_ms = ? WHERE id = ? AND state = 'leased'")
      .run(leaseExpiresMs, id);
  }

  /** Back to pending, remembering devices that must not get it again (they failed it). */
  requeueTask(id: string, excluded: readonly string[]): void {
    this.db
      .prepare(
        "UPDATE tasks SET state = 'pending', device_id = NULL, lease_expires_ms = NULL, excluded_json = ? WHERE id = ?",
      )
      .run(JSON.stringify(excluded), id);
  }

  insertTasks(tasks: readonly TaskRow[]): void {
    this.transaction(() => {
      const insert = this.db.prepare(
        `INSERT INTO tasks VALUES (@id, @job_id, @idx, @item_from, @item_to, @cu, @state, @device_id, @attempt,
           @lease_expires_ms, @hold_id, @hold_amount, @output_json, @price, @reward, @excluded_json, @done_ms)`,
      );
      for (const task of tasks) insert.run(task);
    });
  }

  setTaskState(id: string, state: TaskState): void {
    this.db
      .prepare("UPDATE tasks SET state = ?, lease_expires_ms = NULL WHERE id = ?")
      .run(state, id);
  }

  /** An analytics replica's output, kept until its fragment's quorum decides. */
  markReplicated(id: string, outputJson: string): void {
    this.db
      .prepare(
        "UPDATE tasks SET state = 'replicated', output_json = ?, lease_expires_ms = NULL WHERE id = ?",
      )
      .run(outputJson, id);
  }

  /** The verified output is stored before settlement, so a crash mid-settlement resumes it. */
  markSettling(id: string, outputJson: string): void {
    this.db
      .prepare("UPDATE tasks SET state = 'settling', output_json = ? WHERE id = ?")
      .run(outputJson, id);
  }

  markDone(id: string, price: bigint, reward: bigint, nowMs: number): void {
    this.db
      .prepare(
        "UPDATE tasks SET state = 'done', price = ?, reward = ?, done_ms = ?, lease_expires_ms = NULL WHERE id = ?",
      )
      .run(price.toString(), reward.toString(), nowMs, id);
  }

  cancelOpenTasks(jobId: string): TaskRow[] {
    const open = this.db
      .prepare(
        "SELECT * FROM tasks WHERE job_id = ? AND state IN ('waiting', 'pending', 'leased', 'replicated')",
      )
      .all(jobId) as TaskRow[];
    this.db
      .prepare(
        "UPDATE tasks SET state = 'cancelled', lease_expires_ms = NULL WHERE job_id = ? AND state IN ('waiting', 'pending', 'leased', 'replicated')",
      )
      .run(jobId);
    return open;
  }

  /** CU of jobs submitted since `sinceMs` (the demand of §3.1). */
  demandCu(sinceMs: number): number {
    const row = this.db
      .prepare("SELECT coalesce(sum(cu), 0) AS cu FROM jobs WHERE created_ms >= ?")
      .get(sinceMs) as {
      cu: number;
    };
    return row.cu;
  }

  // ---- artifacts and rates
  recordArtifact(sha256: string, bytes: number, uploadedBy: string, nowMs: number): void {
    this.db
      .prepare("INSERT OR IGNORE INTO artifacts VALUES (?, ?, ?, ?)")
      .run(sha256, bytes, uploadedBy, nowMs);
  }

  hasArtifact(sha256: string): boolean {
    return this.db.prepare("SELECT 1 FROM artifacts WHERE sha256 = ?").get(sha256) !== undefined;
  }

  recordOracleRound(round: {
    oracle: string;
    atMs: number;
    value: number | null;
    median: number | null;
    status: string;
  }): void {
    this.db
      .prepare("INSERT INTO oracle_rounds VALUES (?, ?, ?, ?, ?, ?)")
      .run(
        round.oracle,
        round.atMs,
        round.value,
        round.median,
        round.status,
        JSON.stringify(round),
      );
  }

  /** Raw medians of the rounds within the window: the history the 7-day fallback needs. */
  oracleHistory(oracle: string, windowMs: number): Array<{ atMs: number; median: number }> {
    const rows = this.db
      .prepare(
        "SELECT at_ms, median FROM oracle_rounds WHERE oracle = ? AND median IS NOT NULL AND at_ms >= (SELECT coalesce(max(at_ms), 0) FROM oracle_rounds WHERE oracle = ?) - ? ORDER BY at_ms",
      )
      .all(oracle, oracle, windowMs) as Array<{ at_ms: number; median: number }>;
    return rows.map((r) => ({ atMs: r.at_ms, median: r.median }));
  }

  lastOracleValue(oracle: string): number | undefined {
    const row = this.db
      .prepare(
        "SELECT value FROM oracle_rounds WHERE oracle = ? AND value IS NOT NULL ORDER BY at_ms DESC LIMIT 1",
      )
      .get(oracle) as { value: number } | undefined;
    return row?.value;
  }

  oracleRounds(oracle: string, limit: number): unknown[] {
    const rows = this.db
      .prepare("SELECT json FROM oracle_rounds WHERE oracle = ? ORDER BY at_ms DESC LIMIT ?")
      .all(oracle, limit) as Array<{ json: string }>;
    return rows.map((r) => JSON.parse(r.json) as unknown);
  }

  /** A closed federated round (round 0: the initial model) and the global weights after it. */
  recordFlRound(row: FlRoundRow): void {
    this.db
      .prepare(
        "INSERT OR IGNORE INTO fl_rounds VALUES (@job_id, @round, @weights, @accuracy, @loss, @updates, @closed_ms)",
      )
      .run(row);
  }

  flRounds(jobId: string): FlRoundRow[] {
    return this.db
      .prepare("SELECT * FROM fl_rounds WHERE job_id = ? ORDER BY round")
      .all(jobId) as FlRoundRow[];
  }

  lastFlRound(jobId: string): FlRoundRow | undefined {
    return this.db
      .prepare("SELECT * FROM fl_rounds WHERE job_id = ? ORDER BY round DESC LIMIT 1")
      .get(jobId) as FlRoundRow | undefined;
  }

  /** Opens a round: its waiting tasks become pending. Returns their ids. */
  openTasks(ids: readonly string[]): void {
    const update = this.db.prepare(
      "UPDATE tasks SET state = 'pending' WHERE id = ? AND state = 'waiting'",
    );
    this.transaction(() => {
      for (const id of ids) update.run(id);
    });
  }

  /** A device's privacy budget on a data set, as stored JSON (bigints as strings); undefined: fresh. */
  privacyBudget(deviceId: string, dataset: string): string | undefined {
    const row = this.db
      .prepare("SELECT json FROM privacy_budgets WHERE device_id = ? AND dataset = ?")
      .get(deviceId, dataset) as { json: string } | undefined;
    return row?.json;
  }

  setPrivacyBudget(deviceId: string, dataset: string, json: string): void {
    this.db
      .prepare("INSERT OR REPLACE INTO privacy_budgets VALUES (?, ?, ?)")
      .run(deviceId, dataset, json);
  }

  recordReserveOperation(atMs: number, action: string, json: string): void {
    this.db.prepare("INSERT INTO reserve_operations VALUES (?, ?, ?)").run(atMs, action, json);
  }

  reserveOperations(limit: number): unknown[] {
    const rows = this.db
      .prepare("SELECT json FROM reserve_operations ORDER BY at_ms DESC, rowid DESC LIMIT ?")
      .all(limit) as Array<{ json: string }>;
    return rows.map((r) => JSON.parse(r.json) as unknown);
  }

  recordRate(atMs: number, json: string): void {
    this.db.prepare("INSERT INTO rates VALUES (?, ?)").run(atMs, json);
  }

  rates(limit: number): Array<{ at_ms: number; json: string }> {
    return this.db.prepare("SELECT * FROM rates ORDER BY at_ms DESC LIMIT ?").all(limit) as Array<{
      at_ms: number;
      json: string;
    }>;
  }
}
