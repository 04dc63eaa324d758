import { type DeviceClass, DpnError, formatDpn, parseDpn } from "@dpn/protocol";
import {
  type BackoffPolicy,
  createSession,
  HEARTBEAT_INTERVAL_MS,
  type Identity,
  type Lease,
  linkNode,
  MAX_NODE_FRAME_BYTES,
  type RegisterFields,
  type Registration,
  SessionDriver,
  type SessionEvent,
  type SessionState,
  type TaskResult,
  type TaskTypeName,
  type Verdict,
} from "@dpn/wire";
import { WebSocket } from "ws";
import packageJson from "../package.json" with { type: "json" };
import { ArtifactCache, httpArtifactSource } from "./artifactCache.ts";
import { httpArtifactUpload } from "./artifactUpload.ts";
import { solveChallenge } from "./challenge.ts";
import { DEVICE_OPTIONS_INVALID } from "./errors.ts";
import { MAX_HASH_ITERATIONS } from "./executors/hash.ts";
import { createExecutorPool, defaultSlots, type ExecutorPool } from "./executors/pool.ts";
import { type KindOffer, offerKinds } from "./executors/registry.ts";
import { describeHardware, hardwareFingerprint } from "./fingerprint.ts";
import { type DeviceLog, errorFields, type LogCallback, toLogCallback } from "./logger.ts";
import { closeFlTrainer, runLease } from "./taskRunner.ts";

export { HEARTBEAT_INTERVAL_MS };
export const AGENT_VERSION: string = packageJson.version;
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
/** Largest frame accepted from the node (the session refuses larger ones too). */
export const MAX_FRAME_BYTES = MAX_NODE_FRAME_BYTES;
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

function optionsError(message: string, hint: string, cause?: unknown): DpnError {
  return new DpnError(DEVICE_OPTIONS_INVALID, message, { hint, cause });
}

const PHASES: Record<SessionState["link"]["name"], DevicePhase> = {
  idle: "connecting",
  resolving: "connecting",
  connecting: "connecting",
  registering: "registering",
  answering: "registering",
  answered: "registering",
  active: "ready",
  offline: "offline",
  stopped: "stopped",
};

/**
 * The Node device agent: the shell around @dpn/wire's device session (docs/adr/0013), which
 * runs the channel — node identity and its pinning, register → challenge → registered, frames
 * opened and checked, credit, leases, heartbeats, reconnection with backoff. This shell brings
 * what only a Node device has: the executors on worker threads, the artifact cache, the hardware
 * description, logging, events and stats.
 */
class DeviceAgent implements DeviceHandle {
  private readonly log: LogCallback;
  private readonly slots: number;
  private readonly pool: ExecutorPool;
  private readonly cache: ArtifactCache;
  /** The session as the options describe it, until the kinds are probed and it starts. */
  private readonly provisional: SessionState;
  private driver: SessionDriver | undefined;
  private readonly listeners = new Set<DeviceEventListener>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private registration: Registration | undefined;
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

  constructor(options: DeviceOptions) {
    this.log = toLogCallback(options.log);
    const now = options.now ?? Date.now;
    const random = options.random ?? Math.random;
    this.slots = options.slots ?? defaultSlots();
    if (!Number.isSafeInteger(this.slots) || this.slots < 1 || this.slots > MAX_SLOTS) {
      throw optionsError(
        `slots must be an integer in [1, ${MAX_SLOTS}], got ${this.slots}.`,
        "Use about one slot per core.",
      );
    }
    const startedAtMs = now();
    const jitterSeed = Math.floor(random() * 2 ** 32);
    const sessionOf = (offer: KindOffer) =>
      createSession({
        nodeUrl: options.nodeUrl,
        identity: options.identity,
        register: registerFields(options, offer),
        slots: this.slots,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
        ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
        maxChallengeIterations: MAX_CHALLENGE_ITERATIONS,
        startedAtMs,
        jitterSeed,
      });
    const taskTypes = options.taskTypes ?? SUPPORTED_TASK_TYPES;
    // The options are checked now, with the kinds as asked; the session registers with the kinds
    // that can run here and their capabilities, once probed (render looks for Blender).
    this.provisional = sessionOf({ taskTypes, capabilities: {} });
    this.cache = new ArtifactCache({
      dir: options.cacheDir,
      source: httpArtifactSource(options.nodeUrl, { identity: options.identity, now }),
      ...(options.maxCacheBytes === undefined ? {} : { maxCacheBytes: options.maxCacheBytes }),
    });
    // One thread beyond the slots keeps a challenge from queueing behind leased work that
    // outlived a reconnection; leases themselves never use more than `slots` threads.
    this.pool = createExecutorPool({ threads: this.slots + 1 });
    const pool = this.pool;
    const runner = {
      pool,
      cache: this.cache,
      upload: httpArtifactUpload(options.nodeUrl, options.identity, now),
      deviceId: options.identity.id,
    };
    // A worker thread starts before the first challenge, so thread start-up is not timed.
    const warmUp = pool
      .run({ type: "hash", seed: "00".repeat(32), iterations: 1 })
      .catch((error: unknown) => this.log("error", "worker warm-up failed", errorFields(error)));
    Promise.all([offerKinds(taskTypes), warmUp]).then(
      ([offer]) => {
        if (this.stopped) return;
        this.driver = new SessionDriver(sessionOf(offer), {
          now,
          openSocket: (url) =>
            new WebSocket(url, {
              maxPayload: MAX_FRAME_BYTES,
              handshakeTimeout: WS_HANDSHAKE_TIMEOUT_MS,
            }),
          solveChallenge: (challenge) => solveChallenge(pool, challenge),
          runTask: (lease, signal) => runLease(lease, runner, signal),
          onEvent: (event, state) => this.onSessionEvent(event, state),
        });
        this.driver.start();
      },
      (error: unknown) => {
        this.log("error", "nothing to offer the node", errorFields(error));
        void this.stop();
      },
    );
  }

  // ---- public handle ---------------------------------------------------------------------

  onEvent(listener: DeviceEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stats(): DeviceStats {
    const state = this.driver?.state ?? this.provisional;
    return {
      phase: PHASES[state.link.name],
      nodeId: linkNode(state.link)?.id ?? state.pinnedNodeId,
      deviceId: this.registration?.deviceId,
      deviceClass: this.registration?.deviceClass,
      layer: this.registration?.layer,
      benchmarkCuPerSec: this.registration?.benchmarkCuPerSec,
      slots: this.slots,
      running: state.running.size,
      queued: state.queued.length,
      ...this.counts,
      earnedDpn: formatDpn(this.earnedUnits),
    };
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---- what the session reports ------------------------------------------------------------

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

  private onSessionEvent(event: SessionEvent, state: SessionState): void {
    switch (event.type) {
      case "connecting":
        this.emit({ type: "connecting", url: event.url });
        return;
      case "connect-failed":
        this.log("warn", "cannot get the node's identity", {
          code: event.code,
          error: event.message,
          retryInMs: event.retryInMs,
        });
        return;
      case "connected":
        this.log("info", "connected; registering", { nodeId: event.nodeId, url: event.url });
        return;
      case "frame":
      case "challenge":
      case "stopped":
        return;
      case "frame-ignored":
        this.counts.ignoredFrames += 1;
        this.log("warn", "ignored a frame from the node", {
          code: event.code,
          error: event.message,
        });
        this.emit({ type: "frame-ignored", code: event.code, error: event.message });
        return;
      case "challenge-answered":
        this.log("info", "answered the capability challenge", {
          iterations: event.iterations,
          elapsedMs: Math.round(event.elapsedMs),
        });
        this.emit(event);
        return;
      case "challenge-failed":
        if (!this.stopped) this.log("error", "challenge failed", { error: event.message });
        return;
      case "registered":
        this.counts.sessions += 1;
        this.registration = event.registration;
        this.log("info", "registered", { ...event.registration });
        this.emit({ type: "registered", ...event.registration });
        return;
      case "reclassified":
        this.registration = event.registration;
        this.log("warn", "reclassified by the node", {
          deviceClass: event.registration.deviceClass,
          layer: event.registration.layer,
          reason: event.registration.reason,
        });
        this.emit({ type: "registered", ...event.registration });
        return;
      case "lease-ignored":
        this.log("warn", "ignored a lease", { taskId: event.taskId, reason: event.reason });
        return;
      case "task-started": {
        const { lease } = event;
        this.log("info", "task started", {
          taskId: lease.taskId,
          jobId: lease.jobId,
          type: lease.type,
          items: lease.items.length,
        });
        this.emit({ type: "task-started", lease });
        return;
      }
      case "task-finished":
        this.counts.completed += 1;
        this.log("info", "task finished", {
          taskId: event.result.taskId,
          elapsedMs: Math.round(event.result.elapsedMs),
          sent: event.sent,
        });
        this.emit({ type: "task-finished", result: event.result, sent: event.sent });
        return;
      case "task-failed":
        this.counts.failed += 1;
        // The protocol has no failure message: the lease expires and the node reassigns the task.
        this.log("error", "task failed", {
          ...errorFields(event.error),
          taskId: event.lease.taskId,
        });
        this.emit({ type: "task-failed", taskId: event.lease.taskId, code: event.code });
        return;
      case "task-abandoned":
        if (event.reason === "late") this.counts.completed += 1;
        this.counts.abandoned += 1;
        this.log("warn", "abandoned a task", { taskId: event.lease.taskId, reason: event.reason });
        this.emit({ type: "task-abandoned", taskId: event.lease.taskId });
        return;
      case "verdict":
        this.onVerdict(event.verdict);
        return;
      case "node-error":
        this.log("warn", "the node reported an error", {
          code: event.code,
          message: event.message,
        });
        this.emit({ type: "node-error", code: event.code, message: event.message });
        return;
      case "closed":
        if (event.retryInMs === undefined || state.link.name === "stopped") return;
        this.log("warn", "device channel closed", {
          code: event.code,
          reason: event.reason,
          retryInMs: event.retryInMs,
        });
        this.emit({ type: "disconnected", retryInMs: event.retryInMs });
        return;
    }
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

  // ---- shutdown ----------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    this.stopped = true;
    await this.driver?.stop();
    await this.pool.destroy();
    await closeFlTrainer();
    this.log("info", "stopped", {});
    this.emit({ type: "stopped" });
  }
}

/**
 * What this device registers with (DeviceRegister without the keys, which the session adds):
 * the shell describes the hardware and the work it offers.
 */
function registerFields(options: DeviceOptions, offer: KindOffer): RegisterFields {
  const hardware = describeHardware();
  return {
    owner: options.owner,
    deviceClass: options.deviceClass,
    fingerprint: hardwareFingerprint(hardware),
    geohash: options.geohash,
    cores: hardware.cores,
    memoryMiB: hardware.memoryMiB,
    agentVersion: AGENT_VERSION,
    taskTypes: [...offer.taskTypes],
    // The renderer's version travels with render, so the node pairs replicas of one Blender.
    ...(Object.keys(offer.capabilities).length === 0 ? {} : { capabilities: offer.capabilities }),
    ...(options.datasets === undefined || options.datasets.length === 0
      ? {}
      : { datasets: [...options.datasets] }),
  };
}

/**
 * Starts a device agent: connects to the node, registers, answers the capability challenge and
 * runs leased tasks until stop(). Invalid options throw DEVICE_OPTIONS_INVALID at once; network
 * trouble never throws — the agent logs it and reconnects with backoff.
 */
export function startDevice(options: DeviceOptions): DeviceHandle {
  return new DeviceAgent(options);
}
