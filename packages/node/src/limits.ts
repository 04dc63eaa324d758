/**
 * The node's named limits, each with the reason for its number (docs/protocol.md §Limits). Every
 * queue, table and stream the node keeps grows only up to one of these.
 */

/**
 * Leases one task may have before it fails (TASK_ATTEMPTS_EXHAUSTED) and its hold is released:
 * a lease ends without a result when its device leaves, stalls or returns a wrong result. Eight
 * tries ride out a bad evening of flaky devices; beyond that the task itself is the likely fault
 * (an item no device can run in time) and holding the requester's DPN for it helps no one.
 */
export const MAX_TASK_ATTEMPTS = 8;

/**
 * A heartbeat renews a lease to now + leaseMs, but never past leaseMs × this many after it was
 * granted: a device that sends heartbeats and never a result cannot sit on a task for ever. At the
 * default 120 s lease, 22 minutes: the longest task of the examples (256 Groth16 proofs of the
 * example circuit on one slow core, about 5 minutes) fits four times over.
 */
export const MAX_LEASE_RENEWALS = 10;

/** A job's results travel in one 1 MiB message; 256 Groth16 proofs take ~300 KB. */
export const MAX_ITEMS_PER_FRAGMENT = 256;

/** Leases one device may be owed at once; bounds a device's claim on the queue. */
export const MAX_CREDIT = 1_000;

/** §Sybil: devices registered on one hardware fingerprint. Enough for a home lab or a demo. */
export const MAX_DEVICES_PER_FINGERPRINT = 8;

/** Parsed job specs kept in memory: open jobs are few; a dropped entry only costs a re-parse. */
export const MAX_CACHED_SPECS = 1_000;

/**
 * Assignment records kept per job (each names the candidates and the seed, so anyone can re-run
 * the choice). Attempts are capped, so a job of n tasks needs at most n × MAX_TASK_ATTEMPTS; the
 * bound stops a job of 10,000 items re-leased many times from growing the table without end.
 */
export const MAX_ASSIGNMENTS_PER_JOB = 10_000;

/**
 * Rate epochs kept: one a minute by default, so 30 days. §3.1's demand horizon is 30 days and the
 * dashboard charts at most the last 1,000 epochs.
 */
export const RATE_RETENTION_MS = 30 * 86_400_000;

/**
 * Oracle rounds kept per oracle. The 7-day fallback (docs/protocol.md §Oracles) reads a week of
 * medians; two weeks leave room for an outage across the boundary.
 */
export const ORACLE_RETENTION_MS = 14 * 86_400_000;

/**
 * Global model versions whose weights are kept per federated job: FedAsync mixes an update into
 * the newest model against the version it started from, and an update staler than this many
 * versions weighs α·(τ+1)^−½ ≤ 0.075 at α = 0.6: it is mixed against the oldest version kept. The
 * accuracy of every version stays in the history.
 */
export const MAX_MODEL_VERSIONS_KEPT = 64;

/**
 * Open server-sent event streams (GET /v1/jobs/:id/events) at once; more get NODE_OVERLOADED
 * (503) before the stream starts. Each stream holds a socket until its job ends and re-reads its
 * job's view on every change of that job, so streams cost a descriptor each and store reads in
 * proportion. A thousand is far more than the dashboards watching one node open (one per job page
 * on screen), and small enough that stray clients cannot exhaust the descriptors the device
 * sockets need; a refused client can poll GET /v1/jobs/:id instead.
 */
export const MAX_EVENT_STREAMS = 1_000;

/** How often the node pings each device socket; a socket that misses two pongs is closed. */
export const DEVICE_PING_MS = 15_000;

/** Retention sweeps run at most this often (they delete in bulk with an indexed range). */
export const RETENTION_SWEEP_MS = 60_000;

/**
 * Time one verification request may run in a verifier process before the process is killed and
 * replaced and the task is refused with VERIFY_TIMEOUT. Submission already refuses tasks whose
 * recomputation would exceed MAX_VERIFY_CU_PER_TASK (about a third of this on a loaded verifier),
 * so an honest task ends well inside it; the budget is the backstop for what
 * the cost model does not foresee (an overloaded machine, a kind whose check is heavier than its
 * price says), so that no result can hold a verifier process for longer than this.
 */
export const VERIFY_BUDGET_MS = 60_000;

/**
 * Recomputation one task may ask of the verifier, in CU (docs/protocol.md §Verification). A hash
 * task is verified by redoing it, so its verification costs what the requester paid for. 10 CU
 * (5·10⁶ iterations) took 6 s on an idle 2-core machine and 21 s with both its cores busy with
 * other work (ADR 0014): at most about a third of VERIFY_BUDGET_MS. A job asking for more is split into more tasks, and an item that alone
 * exceeds it is refused at submission (JOB_VERIFY_TOO_COSTLY): before this limit one task could
 * ask for 256 × 10⁸ iterations, about eleven hours of recomputation.
 */
export const MAX_VERIFY_CU_PER_TASK = 10;

/**
 * Verifications of one device's results in flight at once; its other results wait in that
 * device's own queue, having been claimed (leased → verifying) first. One per device, with the
 * verifier's processes shared first come first served, means a device flooding results occupies
 * at most one process, and every other device's next result is at most one request behind it.
 */
export const MAX_VERIFICATIONS_PER_DEVICE = 1;

/*
 * The device channel's budgets (docs/protocol.md §Threat model). A frame costs the node two
 * signature checks (Ed25519 and ML-DSA-44, ~2 ms) before it can be judged, and a signed reply
 * ~5 ms more; an identity costs nothing, so every socket gets a budget that a flood spends in a
 * bounded number of frames, after which the socket is closed with a code.
 */

/**
 * Frames one socket may send in a burst, and per second after it. An honest device sends a ready
 * and a results frame per batch of work and a heartbeat every 10 s: the dispatch benchmark's
 * busiest device sends under 10 frames/s. A flood is cut off after at most burst + rate × its
 * duration frames.
 */
export const FRAME_BURST = 256;
export const FRAMES_PER_SEC = 64;

/**
 * Refused frames one socket may send in a burst, and how often one more is allowed. An honest
 * device errs rarely (a frame replayed across a reconnect, a clock gone wrong); 32 leaves room for
 * a test or a bad minute, and a garbage flood is closed at its 33rd frame.
 */
export const ERROR_BURST = 32;
export const ERRORS_PER_SEC = 1;

/**
 * A socket must complete registration within this: the challenge allows CHALLENGE_TIMEOUT_MS to
 * answer, plus time for register to arrive and the answer to be checked. Half-registered sockets
 * otherwise stay open for ever, each holding a challenge and a descriptor.
 */
export const HANDSHAKE_TIMEOUT_MS = 90_000;

/** Device sockets open at once: far above one node's devices, well below its descriptor limit. */
export const MAX_DEVICE_SOCKETS = 10_000;

/**
 * Device sockets from one address at once. An office or a home lab behind one NAT runs tens of
 * agents; past this, one address is more likely a flood than a fleet (raise it for a lab).
 */
export const MAX_SOCKETS_PER_ADDRESS = 128;

/**
 * Sockets of one address still registering: each holds a challenge and will cost a recomputation
 * (~0.4 s of verifier time) when answered. The dispatch benchmark registers 16 devices at once.
 */
export const MAX_HANDSHAKES_PER_ADDRESS = 32;

/**
 * New device sockets one address may open in a burst, and per second after it: the HTTP rate
 * limit does not see WebSocket upgrades, and every registration costs the node a challenge.
 */
export const UPGRADE_BURST = 64;
export const UPGRADES_PER_SEC = 2;

/**
 * Signed requests one account may make in a burst, and per second after it, on top of the
 * per-address limit (HTTP_REQUESTS_PER_MINUTE): hosts behind one address share that one, and an
 * account spread over many addresses is held by this. A requester submitting and cancelling jobs,
 * or a trader, sends a few a second; the burst takes a batch submission.
 */
export const ACCOUNT_REQUEST_BURST = 120;
export const ACCOUNT_REQUESTS_PER_SEC = 10;

/** Accounts whose request budget is tracked at once (a full bucket is forgotten first). */
export const MAX_TRACKED_ACCOUNTS = 100_000;

/**
 * HTTP requests one address may make a minute: a dashboard polling a few views, an SDK following
 * jobs, a CLI — with room for a few hosts behind one NAT.
 */
export const HTTP_REQUESTS_PER_MINUTE = 1_200;

/**
 * Longest life of a signed read token (docs/adr/0015-signed-reads.md). Reads leave the replay
 * guard alone (a poll may send the same token twice, and a repeated read changes nothing), so
 * what bounds a copied token — a log line, a shared URL — is its path and this: the SDK signs each
 * read afresh with READ_TTL_MS, and a minute also covers a slow upload's first byte.
 */
export const MAX_READ_TTL_MS = 60_000;

/**
 * Leases read per device when it asks for an artifact: a device holds at most MAX_CREDIT, and
 * only its current ones (a few per core) are worth reading through.
 */
export const MAX_LEASES_CHECKED = MAX_CREDIT;

/**
 * How often the node seals a ledger epoch (docs/protocol.md §Sealed epochs): every account's
 * balance under a Merkle root, which settlement publishes and each new job's assignment seed
 * draws from (§Assignment seed). A seal copies every balance once (ledger.snapshot), so an hour
 * keeps that to 720 copies a month. It also bounds the node's one choice over a seed: a
 * submission is valid for at most MAX_ENVELOPE_TTL_MS (5 min) plus the clock skew, so at most one
 * seal can fall within it, and the node can pick between two epoch roots at most by delaying it.
 */
export const LEDGER_EPOCH_MS = 3_600_000;
