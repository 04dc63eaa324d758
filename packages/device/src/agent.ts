import { type DeviceClass, DpnError, formatDpn, isDpnError, parseDpn } from "@dpn/protocol";
import {
  DeviceRegister,
  type Identity,
  type Lease,
  MAX_LEASES_PER_FRAME,
  MAX_RESULTS_PER_FRAME,
  type PublicIdentity,
  parseMessage,
  ReplayGuard,
  type TaskResult,
  type TaskTypeName,
  type Verdict,
} from "@dpn/wire";
import { WebSocket } from "ws";
import packageJson from "../package.json" with { type: "json" };
import { ArtifactCache, httpArtifactSource } from "./artifactCache.ts";
import { type ArtifactUpload, httpArtifactUpload } from "./artifactUpload.ts";
import { type BackoffPolicy, backoffDelayMs, DEFAULT_BACKOFF } from "./backoff.ts";
import { nodeEndpoint } from "./endpoints.ts";
import {
  DEVICE_CHALLENGE_TOO_LARGE,
  DEVICE_FRAME_INVALID,
  DEVICE_LEASE_EXPIRED,
  DEVICE_OPTIONS_INVALID,
} from "./errors.ts";
import { MAX_HASH_ITERATIONS } from "./executors/hash.ts";
import { createExecutorPool, defaultSlots, type ExecutorPool } from "./executors/pool.ts";
import { type KindOffer, offerKinds } from "./executors/registry.ts";
import { describeHardware, hardwareFingerprint } from "./fingerprint.ts";
import { type DeviceLog, errorFields, type LogCallback, toLogCallback } from "./logger.ts";
import {
  checkPayloadSize,
  type DeviceBody,
  type DeviceKind,
  readNodeFrame,
  sealDeviceMessage,
} from "./nodeFrames.ts";
import { fetchNodeIdentity } from "./nodeIdentity.ts";
import { closeFlTrainer, runLease } from "./taskRunner.ts";

export const AGENT_VERSION: string = packageJson.version;
/** Device → node heartbeat period (the node expires a silent device's leases). */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/**
 * More concurrent tasks than this on one agent would be hundreds of threads each reserving
 * wasm memory for witnesses; a bigger machine runs several agents.
 */
export const MAX_SLOTS = 256;
/**
 * The most work a challenge may ask: the largest `hash` item (~2 min of one core). A node that
 * asks more is faulty or hostile; the agent does not burn its owner's power on it.
 */
export const MAX_CHALLENGE_ITERATIONS = MAX_HASH_ITERATIONS;
/** DeviceChallengeAnswer bounds challengeId to 64 characters; a longer one cannot be answered. */
const MAX_CHALLENGE_ID_LENGTH = 64;
/** TaskResult bounds taskId to 64 characters (Lease does not); a longer one cannot be answered. */
const MAX_TASK_ID_LENGTH = 64;
/**
 * Largest frame accepted from the node: an envelope's payload is at most 1 MiB of JSON text
 * (MAX_PAYLOAD_BYTES), which JSON-escaping inside the envelope can double, plus the signatures.
 */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Node's setTimeout fires at once beyond 2^31 − 1 ms; longer lease timers are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long stop() waits for the WebSocket closing handshake before cutting the connection. */
const CLOSE_GRACE_MS = 1000;
const WS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Every kind the agent has an executor for; each is offered where its probe finds it can run. */
export const SUPPORTED_TASK_TYPES: readonly TaskTypeName[] = [
  "hash",
  "zk-groth16",
  "sql-analytics",
  "fl-train",
  "fl-features",
  "render",
];

export interface DeviceOptions {
  /** The bank node's HTTP address, e.g. http://127.0.0.1:7400 (the WebSocket is derived). */
  readonly nodeUrl: string;
  /** The device's own identity: it signs every message; its id becomes the device id. */
  readonly identity: Identity;
  /** The account paid for this device's work (a DPN id, dpn_ + 40 hex digits). */
  readonly owner: string;
  readonly deviceClass: DeviceClass;
  /** Coarse region, a precision-4 geohash (about 39 km × 20 km). */
  readonly geohash: string;
  /** Directory of the content-addressed artifact cache; may be shared by agents. */
  readonly cacheDir: string;
  /** Tasks run at once. Default: one per core but one, at least 1. */
  readonly slots?: number;
  /** Require this node id; otherwise the first node seen is trusted for the agent's lifetime. */
  readonly nodeId?: string;
  /** Clock for envelopes and lease deadlines (ms since the epoch). Default Date.now. */
  readonly now?: () => number;
  /** A pino(-like) logger or a callback. Default: silent. */
  readonly log?: DeviceLog;
  /** Uniform [0, 1) source for reconnection jitter. Default Math.random; seed it in tests. */
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  readonly heartbeatMs?: number;
  /** Bound of the artifact cache in bytes (default DEFAULT_MAX_CACHE_BYTES). */
  readonly maxCacheBytes?: number;
  /** Task types offered to the node (default all the agent runs; those that cannot run here are left out). */
  readonly taskTypes?: readonly TaskTypeName[];
  /**
   * Data this device holds for federated training, as "dataset:partition"
   * ("flights-regions/v1:pacific"); it trains on it locally and only updates leave.
   */
  readonly datasets?: readonly string[];
}

export type DevicePhase = "connecting" | "registering" | "ready" | "offline" | "stopped";

export interface DeviceStats {
  readonly phase: DevicePhase;
  readonly nodeId: string | undefined;
  /** As the node registered it (equal to the identity's id). */
  readonly deviceId: string | undefined;
  readonly deviceClass: DeviceClass | undefined;
  readonly layer: "light" | "heavy" | undefined;
  readonly benchmarkCuPerSec: number | undefined;
  readonly slots: number;
  readonly running: number;
  /** Leases waiting for a free slot. */
  readonly queued: number;
  readonly completed: number;
  readonly failed: number;
  readonly abandoned: number;
  readonly accepted: number;
  readonly rejected: number;
  /** DPN minted to the owner for this device's accepted tasks, a decimal string. */
  readonly earnedDpn: string;
  /** Successful registrations, the first included. */
  readonly sessions: number;
  readonly ignoredFrames: number;
}

export type DeviceEvent =
  | { readonly type: "connecting"; readonly url: string }
  | {
      readonly type: "challenge-answered";
      readonly iterations: number;
      readonly elapsedMs: number;
    }
  | {
      readonly type: "registered";
      readonly deviceId: string;
      readonly deviceClass: DeviceClass;
      readonly layer: "light" | "heavy";
      readonly longTail: boolean;
      readonly benchmarkCuPerSec: number;
      readonly reason: string;
    }
  | { readonly type: "task-started"; readonly lease: Lease }
  | { readonly type: "task-finished"; readonly result: TaskResult; readonly sent: boolean }
  | { readonly type: "task-failed"; readonly taskId: string; readonly code: string | undefined }
  | { readonly type: "task-abandoned"; readonly taskId: string }
  | { readonly type: "verdict"; readonly verdict: Verdict }
  | { readonly type: "node-error"; readonly code: string; readonly message: string }
  | { readonly type: "frame-ignored"; readonly code: string | undefined; readonly error: string }
  | { readonly type: "disconnected"; readonly retryInMs: number }
  | { readonly type: "stopped" };

export type DeviceEventListener = (event: DeviceEvent) => void;

export interface DeviceHandle {
  /** Closes the channel, abandons running tasks and ends the worker threads. Idempotent. */
  stop(): Promise<void>;
  stats(): DeviceStats;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: DeviceEventListener): () => void;
}

/** A lease this device holds, running or queued. */
interface HeldLease {
  readonly lease: Lease;
  /** The lease's length as granted; a heartbeat renews it for as long, as the node does. */
  readonly durationMs: number;
  expiresAtMs: number;
}

interface RunningTask extends HeldLease {
  readonly controller: AbortController;
  expiryTimer: NodeJS.Timeout | undefined;
}

function optionsError(message: string, hint: string, cause?: unknown): DpnError {
  return new DpnError(DEVICE_OPTIONS_INVALID, message, { hint, cause });
}

/**
 * The device session state machine (README, "Protocol"):
 *
 *   connecting ─ws open─▶ registering ─node.challenge → answer─▶ ─node.registered─▶ ready
 *        ▲                                                                           │
 *        └────────────── backoff ◀── offline ◀── socket closed / node.error ◀────────┘
 *
 * Flow control: `device.ready {slots: n}` tells the node how many more leases the device takes
 * now — its free capacity, slots − running − queued, an absolute figure that replaces the node's
 * previous credit (as packages/node's Bank.ready does). It is sent after registration and
 * whenever capacity frees up. At most `slots` tasks ever run; leases that arrive beyond them
 * (a device.ready crossing a node.leases in flight) wait in a queue of at most `slots`.
 * Tasks outlive a connection: their results are sent after the next registration unless their
 * lease has expired meanwhile.
 */
class DeviceAgent implements DeviceHandle {
  private readonly log: LogCallback;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly slots: number;
  private readonly registerBody: DeviceBody<"device.register">;
  private readonly replayGuard = new ReplayGuard();
  private readonly startedAtMs: number;
  private readonly pool: ExecutorPool;
  private readonly cache: ArtifactCache;
  private readonly upload: ArtifactUpload;
  /** The kinds offered and their capabilities, probed once (render looks for Blender). */
  private readonly offer: Promise<KindOffer>;
  private offered: KindOffer | undefined;
  private readonly listeners = new Set<DeviceEventListener>();
  /** Aborts the identity fetch when stopping. */
  private readonly lifetime = new AbortController();

  private phase: DevicePhase = "connecting";
  private stopped = false;
  private socket: WebSocket | undefined;
  private node: PublicIdentity | undefined;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly running = new Map<string, RunningTask>();
  /** Leases received while every slot was busy, oldest first; at most `slots`. */
  private queued: HeldLease[] = [];
  /** Slots granted to the node with device.ready and not yet filled by leases (credit adds up). */
  private granted = 0;
  /** Results finished while no session was registered. */
  private outbox: { result: TaskResult; expiresAtMs: number }[] = [];
  /** Starts a worker thread before the first challenge, so thread start-up is not timed. */
  private readonly warmUp: Promise<unknown>;
  private registration: Extract<DeviceEvent, { type: "registered" }> | undefined;
  private counts = {
    completed: 0,
    failed: 0,
    abandoned: 0,
    accepted: 0,
    rejected: 0,
    sessions: 0,
    ignoredFrames: 0,
  };
  private earnedUnits = 0n;

  constructor(private readonly options: DeviceOptions) {
    this.log = toLogCallback(options.log);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.startedAtMs = this.now();
    this.slots = options.slots ?? defaultSlots();
    if (!Number.isSafeInteger(this.slots) || this.slots < 1 || this.slots > MAX_SLOTS) {
      throw optionsError(
        `slots must be an integer in [1, ${MAX_SLOTS}], got ${this.slots}.`,
        "Use about one slot per core.",
      );
    }
    nodeEndpoint(options.nodeUrl, "v1/node"); // validates nodeUrl now rather than at first use
    const taskTypes = options.taskTypes ?? SUPPORTED_TASK_TYPES;
    const hardware = describeHardware();
    try {
      this.registerBody = parseMessage(
        DeviceRegister,
        {
          ed25519PublicKey: Buffer.from(options.identity.ed25519PublicKey).toString("base64"),
          mldsa44PublicKey: Buffer.from(options.identity.mldsa44PublicKey).toString("base64"),
          owner: options.owner,
          deviceClass: options.deviceClass,
          fingerprint: hardwareFingerprint(hardware),
          geohash: options.geohash,
          cores: hardware.cores,
          memoryMiB: hardware.memoryMiB,
          agentVersion: AGENT_VERSION,
          taskTypes: [...taskTypes],
          ...(options.datasets === undefined || options.datasets.length === 0
            ? {}
            : { datasets: [...options.datasets] }),
        },
        "device options",
      );
    } catch (error) {
      throw optionsError(
        isDpnError(error) ? error.shortMessage : "Invalid device options.",
        "Check owner (dpn_ + 40 hex digits), deviceClass and geohash (4 characters).",
        error,
      );
    }
    this.offer = offerKinds(taskTypes);
    this.offer.catch(() => {}); // reported by connect()
    this.upload = httpArtifactUpload(options.nodeUrl, options.identity, this.now);
    this.cache = new ArtifactCache({
      dir: options.cacheDir,
      source: httpArtifactSource(options.nodeUrl),
      ...(options.maxCacheBytes === undefined ? {} : { maxCacheBytes: options.maxCacheBytes }),
    });
    // One thread beyond the slots keeps a challenge from queueing behind leased work that
    // outlived a reconnection; leases themselves never use more than `slots` threads.
    this.pool = createExecutorPool({ threads: this.slots + 1 });
    this.warmUp = this.pool
      .run({ type: "hash", seed: "00".repeat(32), iterations: 1 })
      .catch((error: unknown) => this.log("error", "worker warm-up failed", errorFields(error)));
    void this.connect();
  }

  // ---- public handle ---------------------------------------------------------------------

  onEvent(listener: DeviceEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): DeviceStats {
    return {
      phase: this.phase,
      nodeId: this.node?.id,
      deviceId: this.registration?.deviceId,
      deviceClass: this.registration?.deviceClass,
      layer: this.registration?.layer,
      benchmarkCuPerSec: this.registration?.benchmarkCuPerSec,
      slots: this.slots,
      running: this.running.size,
      queued: this.queued.length,
      ...this.counts,
      earnedDpn: formatDpn(this.earnedUnits),
    };
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---- connection ------------------------------------------------------------------------

  private emit(event: DeviceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A faulty listener must not break the session.
        this.log("error", "event listener threw", { ...errorFields(error), event: event.type });
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.phase = "connecting";
    const url = nodeEndpoint(this.options.nodeUrl, "v1/devices/ws", "ws");
    this.emit({ type: "connecting", url: url.href });
    await this.warmUp;
    try {
      this.offered = await this.offer;
    } catch (error) {
      this.log("error", "nothing to offer the node", errorFields(error));
      void this.stop();
      return;
    }
    let node: PublicIdentity;
    try {
      // Trust on first use: once a node is seen, reconnections must find the same id.
      node = await fetchNodeIdentity(
        this.options.nodeUrl,
        this.node?.id ?? this.options.nodeId,
        this.lifetime.signal,
      );
    } catch (error) {
      if (this.stopped) return;
      this.log("warn", "cannot get the node's identity", errorFields(error));
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    this.node = node;
    const socket = new WebSocket(url, {
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: WS_HANDSHAKE_TIMEOUT_MS,
    });
    this.socket = socket;
    socket.on("open", () => {
      if (socket !== this.socket) return;
      this.phase = "registering";
      this.log("info", "connected; registering", { nodeId: node.id, url: url.href });
      const { taskTypes, capabilities } = this.offered ?? { taskTypes: [], capabilities: {} };
      this.send("device.register", {
        ...this.registerBody,
        taskTypes: [...taskTypes],
        ...(Object.keys(capabilities).length === 0 ? {} : { capabilities }),
      });
    });
    socket.on("message", (data, isBinary) => {
      if (socket !== this.socket) return;
      if (isBinary) {
        this.ignoreFrame(
          new DpnError(DEVICE_FRAME_INVALID, "A binary frame arrived from the node.", {
            hint: "Every frame on the device channel is one envelope as JSON text.",
          }),
        );
        return;
      }
      this.onFrame(node, Array.isArray(data) ? Buffer.concat(data).toString() : data.toString());
    });
    socket.on("error", (error) => {
      // A 'close' event always follows; reconnection happens there.
      this.log("warn", "device channel error", errorFields(error));
    });
    socket.on("close", (code, reason) => {
      if (socket !== this.socket) return;
      this.onClosed(code, reason.toString());
    });
  }

  private onClosed(code: number, reason: string): void {
    this.socket = undefined;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.stopped) return;
    this.phase = "offline";
    const retryInMs = this.scheduleReconnect();
    this.log("warn", "device channel closed", { code, reason, retryInMs });
    this.emit({ type: "disconnected", retryInMs });
  }

  private scheduleReconnect(): number {
    this.phase = "offline";
    const delayMs = backoffDelayMs(
      this.attempt,
      this.random,
      this.options.backoff ?? DEFAULT_BACKOFF,
    );
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delayMs);
    return delayMs;
  }

  /** Signs and sends a message on the current socket; false when there is none to send on. */
  private send<K extends DeviceKind>(kind: K, body: DeviceBody<K>): boolean {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(sealDeviceMessage(this.options.identity, kind, body, this.now()));
    return true;
  }

  // ---- frames from the node ------------------------------------------------------------------

  private ignoreFrame(error: unknown): void {
    this.counts.ignoredFrames += 1;
    const fields = errorFields(error);
    this.log("warn", "ignored a frame from the node", fields);
    this.emit({
      type: "frame-ignored",
      code: isDpnError(error) ? error.code : undefined,
      error: String(fields.error),
    });
  }

  private onFrame(node: PublicIdentity, text: string): void {
    let message: ReturnType<typeof readNodeFrame>;
    try {
      message = readNodeFrame(text, node, this.replayGuard, {
        nowMs: this.now(),
        notBeforeMs: this.startedAtMs,
      });
    } catch (error) {
      this.ignoreFrame(error);
      return;
    }
    switch (message.kind) {
      case "node.challenge":
        void this.answerChallenge(message.body);
        return;
      case "node.registered":
        this.onRegistered(message.body);
        return;
      case "node.leases":
        this.onLeases(message.body.leases);
        return;
      case "node.verdicts":
        for (const verdict of message.body.verdicts) this.onVerdict(verdict);
        return;
      case "node.error":
        this.log("warn", "the node reported an error", message.body);
        this.emit({ type: "node-error", ...message.body });
        return;
    }
  }

  private async answerChallenge(challenge: {
    challengeId: string;
    seed: string;
    iterations: number;
  }): Promise<void> {
    const socket = this.socket;
    if (this.phase !== "registering") {
      this.ignoreFrame(
        new DpnError(DEVICE_FRAME_INVALID, `A challenge arrived in phase ${this.phase}.`, {
          hint: "The node challenges a device once, right after device.register.",
        }),
      );
      return;
    }
    if (challenge.iterations > MAX_CHALLENGE_ITERATIONS) {
      this.ignoreFrame(
        new DpnError(
          DEVICE_CHALLENGE_TOO_LARGE,
          `The challenge asks ${challenge.iterations} iterations; the limit is ${MAX_CHALLENGE_ITERATIONS}.`,
          { hint: "The node is misconfigured; it will time the registration out." },
        ),
      );
      return;
    }
    if (challenge.challengeId.length > MAX_CHALLENGE_ID_LENGTH) {
      this.ignoreFrame(
        new DpnError(DEVICE_FRAME_INVALID, "The challenge id is longer than 64 characters.", {
          hint: "device.challenge-answer cannot carry it; the node is misconfigured.",
        }),
      );
      return;
    }
    try {
      const { output, elapsedMs } = await this.pool.run({
        type: "hash",
        seed: challenge.seed,
        iterations: challenge.iterations,
      });
      const { digest } = output as { digest: string };
      if (socket !== this.socket) return; // the session the challenge belonged to is gone
      this.send("device.challenge-answer", {
        challengeId: challenge.challengeId,
        digest,
        elapsedMs,
      });
      this.log("info", "answered the capability challenge", {
        iterations: challenge.iterations,
        elapsedMs: Math.round(elapsedMs),
      });
      this.emit({ type: "challenge-answered", iterations: challenge.iterations, elapsedMs });
    } catch (error) {
      if (!this.stopped) this.log("error", "challenge failed", errorFields(error));
    }
  }

  private onRegistered(body: Omit<Extract<DeviceEvent, { type: "registered" }>, "type">): void {
    if (this.phase !== "registering") {
      this.ignoreFrame(
        new DpnError(DEVICE_FRAME_INVALID, `node.registered arrived in phase ${this.phase}.`, {
          hint: "The node registers a device once per connection.",
        }),
      );
      return;
    }
    this.phase = "ready";
    this.granted = 0; // a new session starts with no credit at the node
    this.attempt = 0;
    this.counts.sessions += 1;
    this.registration = { type: "registered", ...body };
    this.log("info", "registered", { ...body });
    this.emit(this.registration);
    // Results that finished while offline go first, then the free slots.
    const nowMs = this.now();
    const pending = this.outbox.filter((entry) => entry.expiresAtMs > nowMs);
    this.outbox = [];
    for (let i = 0; i < pending.length; i += MAX_RESULTS_PER_FRAME) {
      this.send("device.results", {
        results: pending.slice(i, i + MAX_RESULTS_PER_FRAME).map((entry) => entry.result),
      });
    }
    this.startQueued();
    this.offerFreeSlots();
    const heartbeatMs = this.options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), heartbeatMs);
  }

  /** Leases held (running or queued): what the heartbeat keeps alive. */
  private held(): HeldLease[] {
    return [...this.running.values(), ...this.queued];
  }

  private heartbeat(): void {
    if (this.phase !== "ready") return;
    const held = this.held().slice(0, MAX_LEASES_PER_FRAME);
    const sent = this.send("device.heartbeat", {
      activeTaskIds: held.map((h) => h.lease.taskId),
    });
    if (!sent) return;
    // The node renews every listed lease to now + its lease length (Bank.heartbeat); mirror it,
    // or long tasks would be abandoned here while the node still counts on them.
    const nowMs = this.now();
    for (const h of held) h.expiresAtMs = Math.max(h.expiresAtMs, nowMs + h.durationMs);
    for (const task of this.running.values()) {
      clearTimeout(task.expiryTimer);
      this.armExpiry(task);
    }
  }

  /** Tells the node how many more leases the device takes now (absolute, see class doc). */
  private offerFreeSlots(): void {
    if (this.phase !== "ready") return;
    const nowMs = this.now();
    this.queued = this.queued.filter((h) => {
      if (h.expiresAtMs > nowMs) return true;
      this.log("warn", "dropped a queued lease that expired", { taskId: h.lease.taskId });
      return false;
    });
    // device.ready adds credit at the node, so only slots not already granted are offered.
    const free = this.slots - this.running.size - this.queued.length - this.granted;
    if (free > 0 && this.send("device.ready", { slots: free })) this.granted += free;
  }

  private onLeases(leases: readonly Lease[]): void {
    if (this.phase !== "ready") {
      this.ignoreFrame(
        new DpnError(DEVICE_FRAME_INVALID, `Leases arrived in phase ${this.phase}.`, {
          hint: "The node leases work only after node.registered and device.ready.",
        }),
      );
      return;
    }
    const nowMs = this.now();
    const offered = this.offered?.taskTypes ?? [];
    this.granted = Math.max(0, this.granted - leases.length);
    let skipped = 0;
    for (const lease of leases) {
      const { taskId } = lease;
      if (this.running.has(taskId) || this.queued.some((h) => h.lease.taskId === taskId)) {
        this.log("warn", "ignored a duplicate lease", { taskId });
        continue;
      }
      if (taskId.length > MAX_TASK_ID_LENGTH) {
        // TaskResult bounds taskId to 64 characters: the result could never be sent.
        this.log("warn", "ignored a lease whose task id is too long to answer", {
          taskId: taskId.slice(0, 80),
        });
        skipped += 1;
        continue;
      }
      if (!offered.includes(lease.type)) {
        this.log("warn", "ignored a lease of a type this device did not offer", {
          taskId,
          type: lease.type,
        });
        skipped += 1;
        continue;
      }
      if (lease.leaseExpiresAtMs <= nowMs) {
        this.log("warn", "ignored a lease that had already expired", { taskId });
        skipped += 1;
        continue;
      }
      const held: HeldLease = {
        lease,
        durationMs: lease.leaseExpiresAtMs - nowMs,
        expiresAtMs: lease.leaseExpiresAtMs,
      };
      if (this.running.size < this.slots) {
        this.startTask(held);
      } else if (this.queued.length < this.slots) {
        this.queued.push(held);
      } else {
        // Beyond slots + queue: the node gets the task back when the lease expires.
        this.log("warn", "ignored a lease beyond the device's slots and queue", { taskId });
      }
    }
    // The node spent credit on the skipped leases: offer that capacity again.
    if (skipped > 0) this.offerFreeSlots();
  }

  private onVerdict(verdict: Verdict): void {
    if (verdict.accepted) {
      this.counts.accepted += 1;
      try {
        this.earnedUnits += parseDpn(verdict.reward);
      } catch (error) {
        this.log("warn", "a verdict's reward is out of range", {
          ...errorFields(error),
          taskId: verdict.taskId,
        });
      }
    } else {
      this.counts.rejected += 1;
    }
    this.log(verdict.accepted ? "info" : "warn", "verdict", { ...verdict });
    this.emit({ type: "verdict", verdict });
  }

  // ---- tasks -------------------------------------------------------------------------------

  private startTask(held: HeldLease): void {
    const { lease } = held;
    const task: RunningTask = {
      ...held,
      controller: new AbortController(),
      expiryTimer: undefined,
    };
    if (this.running.size >= this.slots) {
      // An invariant of this class, not an operating condition: crash rather than overcommit.
      throw new Error(`slot overcommit: ${this.running.size} running, ${this.slots} slots`);
    }
    this.running.set(lease.taskId, task);
    this.armExpiry(task);
    this.log("info", "task started", {
      taskId: lease.taskId,
      jobId: lease.jobId,
      type: lease.type,
      items: lease.items.length,
    });
    this.emit({ type: "task-started", lease });
    runLease(
      lease,
      {
        pool: this.pool,
        cache: this.cache,
        upload: this.upload,
        deviceId: this.options.identity.id,
      },
      task.controller.signal,
    ).then(
      (result) => this.onTaskDone(task, result),
      (error: unknown) => this.onTaskFailed(task, error),
    );
  }

  /** Starts queued leases while slots are free, dropping those that expired while waiting. */
  private startQueued(): void {
    const nowMs = this.now();
    while (this.running.size < this.slots) {
      const next = this.queued.shift();
      if (next === undefined) return;
      if (next.expiresAtMs <= nowMs) {
        this.log("warn", "dropped a queued lease that expired", { taskId: next.lease.taskId });
        continue;
      }
      this.startTask(next);
    }
  }

  private armExpiry(task: RunningTask): void {
    const remainingMs = task.expiresAtMs - this.now();
    task.expiryTimer = setTimeout(
      () => {
        if (task.expiresAtMs > this.now()) this.armExpiry(task);
        else this.abandon(task);
      },
      Math.min(Math.max(0, remainingMs), MAX_TIMER_MS),
    );
  }

  /** Removes a task from the running set; false if it was already gone. */
  private release(task: RunningTask): boolean {
    if (this.running.get(task.lease.taskId) !== task) return false;
    this.running.delete(task.lease.taskId);
    clearTimeout(task.expiryTimer);
    return true;
  }

  /** A slot was freed: run what waits, then offer the rest to the node. */
  private slotFreed(): void {
    if (this.stopped) return;
    this.startQueued();
    this.offerFreeSlots();
  }

  private abandon(task: RunningTask): void {
    if (!this.release(task)) return;
    task.controller.abort(
      new DpnError(DEVICE_LEASE_EXPIRED, `The lease of task ${task.lease.taskId} expired.`, {
        hint: "The node reassigns the task; a device that is often late gets smaller leases.",
      }),
    );
    this.counts.abandoned += 1;
    this.log("warn", "abandoned a task whose lease expired", { taskId: task.lease.taskId });
    this.emit({ type: "task-abandoned", taskId: task.lease.taskId });
    this.slotFreed();
  }

  private onTaskDone(task: RunningTask, result: TaskResult): void {
    try {
      checkPayloadSize("device.results", { results: [result] });
    } catch (error) {
      this.onTaskFailed(task, error);
      return;
    }
    if (!this.release(task)) return; // abandoned or stopped meanwhile
    this.counts.completed += 1;
    if (task.expiresAtMs <= this.now()) {
      this.counts.abandoned += 1;
      this.log("warn", "finished after the lease expired; result dropped", {
        taskId: task.lease.taskId,
      });
      this.emit({ type: "task-abandoned", taskId: task.lease.taskId });
    } else {
      const sent = this.phase === "ready" && this.send("device.results", { results: [result] });
      if (!sent) this.outbox.push({ result, expiresAtMs: task.expiresAtMs });
      this.log("info", "task finished", {
        taskId: result.taskId,
        elapsedMs: Math.round(result.elapsedMs),
        sent,
      });
      this.emit({ type: "task-finished", result, sent });
    }
    this.slotFreed();
  }

  private onTaskFailed(task: RunningTask, error: unknown): void {
    if (!this.release(task)) return;
    this.counts.failed += 1;
    // The protocol has no failure message: the lease expires and the node reassigns the task.
    this.log("error", "task failed", { ...errorFields(error), taskId: task.lease.taskId });
    this.emit({
      type: "task-failed",
      taskId: task.lease.taskId,
      code: isDpnError(error) ? error.code : undefined,
    });
    this.slotFreed();
  }

  // ---- shutdown ----------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.phase = "stopped";
    this.lifetime.abort();
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.queued = [];
    for (const task of [...this.running.values()]) {
      this.release(task);
      task.controller.abort();
    }
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      await new Promise<void>((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(() => {
          socket.terminate();
          resolve();
        }, CLOSE_GRACE_MS);
        socket.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
        else socket.close(1000, "device stopping");
      });
    }
    await this.pool.destroy();
    await closeFlTrainer();
    this.log("info", "stopped", {});
    this.emit({ type: "stopped" });
  }
}

/**
 * Starts a device agent: connects to the node, registers, answers the capability challenge and
 * runs leased tasks until stop(). Invalid options throw DEVICE_OPTIONS_INVALID at once; network
 * trouble never throws — the agent logs it and reconnects with backoff.
 */
export function startDevice(options: DeviceOptions): DeviceHandle {
  return new DeviceAgent(options);
}
