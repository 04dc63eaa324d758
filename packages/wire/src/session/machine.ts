import { DpnError, type DpnErrorCode, isDpnError } from "@dpn/protocol";
import {
  type DeviceMessageBody,
  type DeviceMessageKind,
  DeviceRegister,
  type Lease,
  type NodeMessageBody,
  TaskResult,
  type Verdict,
} from "../channel.ts";
import { bytesToBase64 } from "../encoding.ts";
import { MAX_PAYLOAD_BYTES, type SignaturePolicy } from "../envelope.ts";
import type { Identity, PublicIdentity } from "../identity.ts";
import { MAX_LEASES_PER_FRAME, MAX_RESULTS_PER_FRAME, parseMessage } from "../schemas.ts";
import { HashItem } from "../tasks/hash.ts";
import { type BackoffPolicy, backoffDelayMs, DEFAULT_BACKOFF } from "./backoff.ts";
import { DEVICE_CHANNEL_ENDPOINT, NODE_IDENTITY_ENDPOINT, nodeEndpoint } from "./endpoints.ts";
import {
  DEVICE_CHALLENGE_TOO_LARGE,
  DEVICE_FRAME_INVALID,
  DEVICE_LEASE_EXPIRED,
  DEVICE_MESSAGE_TOO_LARGE,
  DEVICE_OPTIONS_INVALID,
  DEVICE_STOPPING,
} from "./errors.ts";
import { type NodeMessage, openNodeFrame, sealDeviceFrame } from "./frames.ts";
import { nodeUnreachable, readNodeIdentity } from "./nodeIdentity.ts";
import { EMPTY_REPLAY_MEMORY, type ReplayMemory } from "./replayMemory.ts";

/**
 * The device side of the device channel (docs/protocol.md §Messages) as a pure state machine:
 * `step(state, input) → { state, effects }`. It reads no clock (every input carries `nowMs`),
 * does no I/O and keeps no timers: it asks for them in its effects, which a driver (driver.ts)
 * or a test carries out. It signs what it sends and opens what it receives (time window, both
 * signatures against the pinned node, replay memory, body schema: a lease's items against its
 * kind's item schema); a frame that fails a check is reported with its code and changes nothing.
 *
 * Its phases mirror the node's (packages/node/src/channel/deviceChannel.ts, `Phase`: new →
 * challenged → active), with the connection around them:
 *
 *   idle ─start─▶ resolving ─node identity─▶ connecting ─open─▶ registering ─node.challenge─▶
 *   answering ─solved─▶ answered ─node.registered─▶ active
 *        ▲                                                      │ closed, or a failed attempt
 *        └──── reconnect timer (backoff) ◀── offline ◀──────────┘   (stopped without backoff)
 *
 * Flow control: `device.ready {slots: n}` gives the node n more credit. The machine offers free
 * capacity — slots − running − queued − already granted — once it reaches `offerAtLeast`. At
 * most `slots` tasks run; leases beyond them (a device.ready crossing a node.leases in flight)
 * wait in a queue of at most `slots`. Results finished in the same turn share one
 * `device.results` frame (the `flush` timer, due at once): every frame costs an ML-DSA-44
 * signature here and a verification at the node. Tasks outlive a connection: their results are
 * sent after the next registration unless their lease has expired meanwhile. With `slots: 0` the
 * machine runs the session only (register, challenge, heartbeats are off) and the shell asks for
 * and answers leases itself (a test device); leases are reported as frames, nothing else.
 */

export type TimerName = "reconnect" | "heartbeat" | "expiry" | "flush";

/** The register body without the public keys, which the session takes from its identity. */
export type RegisterFields = Omit<DeviceRegister, "ed25519PublicKey" | "mldsa44PublicKey">;
export type Registration = NodeMessageBody<"node.registered">;
export type Challenge = NodeMessageBody<"node.challenge">;

/** Device → node heartbeat period (the node expires a silent device's leases). */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** The most work a challenge may ask by default: the largest `hash` item (~2 min of one core). */
export const MAX_CHALLENGE_ITERATIONS: number = HashItem.shape.iterations.maxValue ?? 100_000_000;
/** Bytes of a results frame's body beyond its results: `{"results":[` `]}` and the commas. */
const RESULTS_FRAME_OVERHEAD = 16;

export interface SessionOptions {
  /** The bank node's HTTP address (its identity and WebSocket addresses are derived). */
  readonly nodeUrl: string;
  /** The device's identity: it signs every frame; its id becomes the device id. */
  readonly identity: Identity;
  /** What the shell registers: owner, class, hardware, task types, datasets, capabilities. */
  readonly register: RegisterFields;
  /** Tasks run at once; 0: the shell leases by hand (no device.ready, no heartbeats). */
  readonly slots: number;
  /** Offer capacity only once this many slots are free and not granted (default 1). */
  readonly offerAtLeast?: number;
  readonly heartbeatMs?: number;
  /** Reconnection delays (default DEFAULT_BACKOFF); false: a lost connection stops the session. */
  readonly backoff?: BackoffPolicy | false;
  /** Require this node id; otherwise the first node seen is trusted for the session's lifetime. */
  readonly nodeId?: string;
  /** A challenge that asks more is refused (default MAX_CHALLENGE_ITERATIONS). */
  readonly maxChallengeIterations?: number;
  readonly policy?: SignaturePolicy;
  /** Node frames issued before this instant are refused (the session's start). */
  readonly startedAtMs: number;
  /** Seed of the reconnection jitter (default: from the identity and the start time). */
  readonly jitterSeed?: number;
}

export interface SessionConfig {
  readonly identity: Identity;
  readonly registerBody: DeviceRegister;
  readonly taskTypes: ReadonlySet<string>;
  readonly slots: number;
  readonly offerAtLeast: number;
  readonly heartbeatMs: number;
  readonly backoff: BackoffPolicy | undefined;
  readonly maxChallengeIterations: number;
  readonly policy: SignaturePolicy | undefined;
  readonly startedAtMs: number;
  readonly identityUrl: string;
  readonly channelUrl: string;
  readonly host: string;
}

export type Link =
  | { readonly name: "idle" }
  | { readonly name: "resolving" }
  | { readonly name: "connecting"; readonly node: PublicIdentity }
  | { readonly name: "registering"; readonly node: PublicIdentity }
  | {
      readonly name: "answering";
      readonly node: PublicIdentity;
      readonly challengeId: string;
      readonly iterations: number;
    }
  | { readonly name: "answered"; readonly node: PublicIdentity }
  | { readonly name: "active"; readonly node: PublicIdentity; readonly registration: Registration }
  | { readonly name: "offline"; readonly retryAtMs: number }
  | { readonly name: "stopped" };

/** A lease this device holds, running or queued. */
export interface HeldLease {
  readonly lease: Lease;
  /** The lease's length as granted; a heartbeat renews it for as long, as the node does. */
  readonly durationMs: number;
  readonly expiresAtMs: number;
}

/** A finished task whose result is not sent yet. */
export interface Finished {
  readonly lease: Lease;
  readonly result: TaskResult;
  readonly expiresAtMs: number;
  /** Length of the result's JSON text. */
  readonly bytes: number;
}

export interface SessionState {
  readonly config: SessionConfig;
  readonly link: Link;
  /** The node id this session trusts (option nodeId, or the first seen). */
  readonly pinnedNodeId: string | undefined;
  /** Failed attempts since the last registration (the backoff's exponent). */
  readonly attempt: number;
  readonly replay: ReplayMemory;
  readonly running: ReadonlyMap<string, HeldLease>;
  /** Leases received while every slot was busy, oldest first; at most `slots`. */
  readonly queued: readonly HeldLease[];
  /** Credit given to the node with device.ready and not yet spent on leases. */
  readonly granted: number;
  readonly outbox: readonly Finished[];
  readonly paused: boolean;
  /** Timers asked for and not yet fired or cancelled, with the instant each is due. */
  readonly timers: Readonly<Partial<Record<TimerName, number>>>;
  /** State of the jitter generator (mulberry32). */
  readonly rng: number;
  /** Successful registrations, the first included. */
  readonly sessions: number;
}

export type SessionInput =
  | { readonly type: "start"; readonly nowMs: number }
  /** The body of `GET /v1/node`. */
  | { readonly type: "node-identity"; readonly nowMs: number; readonly text: string }
  | { readonly type: "node-unreachable"; readonly nowMs: number; readonly message: string }
  | { readonly type: "connected"; readonly nowMs: number }
  | {
      readonly type: "frame";
      readonly nowMs: number;
      readonly text: string;
      readonly binary?: boolean;
    }
  | { readonly type: "timer"; readonly nowMs: number; readonly timer: TimerName }
  | {
      readonly type: "challenge-solved";
      readonly nowMs: number;
      readonly challengeId: string;
      /** Every lane's digest, in lane order. */
      readonly digests: readonly string[];
      readonly memoryDigest?: string;
      readonly elapsedMs: number;
    }
  | {
      readonly type: "challenge-failed";
      readonly nowMs: number;
      readonly challengeId: string;
      readonly error: unknown;
    }
  | { readonly type: "task-finished"; readonly nowMs: number; readonly result: TaskResult }
  | {
      readonly type: "task-failed";
      readonly nowMs: number;
      readonly taskId: string;
      readonly error: unknown;
    }
  /** A send effect found no open socket (it was closing). */
  | { readonly type: "send-failed"; readonly nowMs: number; readonly effect: SendEffect }
  /** While paused the device takes no new work and renews no lease (a hidden tab, say). */
  | { readonly type: "paused"; readonly nowMs: number; readonly paused: boolean }
  | {
      readonly type: "closed";
      readonly nowMs: number;
      readonly code: number;
      readonly reason: string;
    }
  | { readonly type: "stop"; readonly nowMs: number };

export interface SendEffect {
  readonly type: "send";
  readonly kind: DeviceMessageKind;
  /** The sealed envelope, as frame text. */
  readonly text: string;
  /** For device.results: what it carries, put back in the outbox if it cannot be sent. */
  readonly results?: readonly Finished[];
  /** For device.ready: the credit it grants. */
  readonly slots?: number;
}

export type SessionEffect =
  /** GET this URL (the node's identity) and answer with node-identity or node-unreachable. */
  | { readonly type: "resolve-node"; readonly url: string }
  /** Open a WebSocket; answer with connected, frame and closed inputs. */
  | { readonly type: "open-socket"; readonly url: string }
  | SendEffect
  | { readonly type: "close"; readonly code: number; readonly reason: string }
  /** Fire `timer` after `delayMs` (replacing a pending one of that name). */
  | { readonly type: "schedule"; readonly timer: TimerName; readonly delayMs: number }
  | { readonly type: "cancel"; readonly timer: TimerName }
  /** Run the capability benchmark; answer with challenge-solved or challenge-failed. */
  | { readonly type: "solve-challenge"; readonly challenge: Challenge }
  /** Run the task; answer with task-finished or task-failed. */
  | { readonly type: "run-task"; readonly lease: Lease }
  | {
      readonly type: "abort-task";
      readonly taskId: string;
      readonly code: DpnErrorCode;
      readonly message: string;
      readonly hint: string;
    }
  | { readonly type: "report"; readonly event: SessionEvent };

export type SessionEvent =
  | { readonly type: "connecting"; readonly url: string; readonly attempt: number }
  | {
      readonly type: "connect-failed";
      readonly code: string;
      readonly message: string;
      readonly retryInMs: number | undefined;
    }
  | { readonly type: "connected"; readonly nodeId: string; readonly url: string }
  /** Every frame from the node that passed the checks, before it is acted on. */
  | { readonly type: "frame"; readonly message: NodeMessage }
  | { readonly type: "frame-ignored"; readonly code: string; readonly message: string }
  | { readonly type: "challenge"; readonly challengeId: string; readonly iterations: number }
  | { readonly type: "challenge-answered"; readonly iterations: number; readonly elapsedMs: number }
  | { readonly type: "challenge-failed"; readonly message: string }
  | { readonly type: "registered"; readonly registration: Registration }
  /** The node changed the class or layer after registration (its reason says why). */
  | { readonly type: "reclassified"; readonly registration: Registration }
  | { readonly type: "lease-ignored"; readonly taskId: string; readonly reason: string }
  | { readonly type: "task-started"; readonly lease: Lease }
  | {
      readonly type: "task-finished";
      readonly lease: Lease;
      readonly result: TaskResult;
      /** Registered now, so the result goes out at once; otherwise after the next registration. */
      readonly sent: boolean;
    }
  | {
      readonly type: "task-failed";
      readonly lease: Lease;
      readonly code: string | undefined;
      readonly message: string;
      readonly error: unknown;
    }
  | {
      readonly type: "task-abandoned";
      readonly lease: Lease;
      /** expired: the lease ran out while the task ran; late: it finished after that; unsent:
       * its result waited for a registration longer than the lease. */
      readonly reason: "expired" | "late" | "unsent";
    }
  | { readonly type: "verdict"; readonly verdict: Verdict }
  | { readonly type: "node-error"; readonly code: string; readonly message: string }
  | {
      readonly type: "closed";
      readonly code: number;
      readonly reason: string;
      readonly retryInMs: number | undefined;
    }
  | { readonly type: "stopped" };

export interface Step {
  readonly state: SessionState;
  readonly effects: readonly SessionEffect[];
}

function optionsError(message: string, cause?: unknown): DpnError {
  return new DpnError(DEVICE_OPTIONS_INVALID, message, {
    hint: "Check owner (dpn_ + 40 hex digits), deviceClass, geohash (4 characters) and slots.",
    cause,
  });
}

/** The initial state (phase idle); throws DEVICE_OPTIONS_INVALID on invalid options. */
export function createSession(options: SessionOptions): SessionState {
  const identityUrl = nodeEndpoint(options.nodeUrl, NODE_IDENTITY_ENDPOINT);
  const channelUrl = nodeEndpoint(options.nodeUrl, DEVICE_CHANNEL_ENDPOINT, "ws");
  const { slots } = options;
  if (!Number.isSafeInteger(slots) || slots < 0 || slots > MAX_LEASES_PER_FRAME) {
    throw optionsError(`slots must be an integer in [0, ${MAX_LEASES_PER_FRAME}], got ${slots}.`);
  }
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
  if (!(heartbeatMs > 0)) throw optionsError(`heartbeatMs must be positive, got ${heartbeatMs}.`);
  let registerBody: DeviceRegister;
  try {
    registerBody = parseMessage(
      DeviceRegister,
      {
        ...options.register,
        ed25519PublicKey: bytesToBase64(options.identity.ed25519PublicKey),
        mldsa44PublicKey: bytesToBase64(options.identity.mldsa44PublicKey),
      },
      "device options",
    );
  } catch (error) {
    throw optionsError(isDpnError(error) ? error.shortMessage : "Invalid device options.", error);
  }
  return {
    config: {
      identity: options.identity,
      registerBody,
      taskTypes: new Set(registerBody.taskTypes),
      slots,
      offerAtLeast: Math.min(Math.max(1, options.offerAtLeast ?? 1), Math.max(1, slots)),
      heartbeatMs,
      backoff: options.backoff === false ? undefined : (options.backoff ?? DEFAULT_BACKOFF),
      maxChallengeIterations: options.maxChallengeIterations ?? MAX_CHALLENGE_ITERATIONS,
      policy: options.policy,
      startedAtMs: options.startedAtMs,
      identityUrl: identityUrl.href,
      channelUrl: channelUrl.href,
      host: identityUrl.host,
    },
    link: { name: "idle" },
    pinnedNodeId: options.nodeId,
    attempt: 0,
    replay: EMPTY_REPLAY_MEMORY,
    running: new Map(),
    queued: [],
    granted: 0,
    outbox: [],
    paused: false,
    timers: {},
    rng:
      (options.jitterSeed ??
        Number.parseInt(options.identity.id.slice(4, 12), 16) ^ options.startedAtMs) >>> 0,
    sessions: 0,
  };
}

/** The machine's one entry: the next state and what to do. */
export function step(state: SessionState, input: SessionInput): Step {
  const fx: SessionEffect[] = [];
  const next = reduce(state, input, fx);
  return { state: next, effects: fx };
}

/** The node of the current connection, in every phase that has a socket. */
export function linkNode(link: Link): PublicIdentity | undefined {
  return "node" in link ? link.node : undefined;
}

// ---- helpers: every one takes the state and the effects list and returns the next state ----

type Fx = SessionEffect[];

const report = (fx: Fx, event: SessionEvent): void => {
  fx.push({ type: "report", event });
};

function schedule(s: SessionState, fx: Fx, timer: TimerName, dueMs: number, nowMs: number) {
  fx.push({ type: "schedule", timer, delayMs: Math.max(0, dueMs - nowMs) });
  return { ...s, timers: { ...s.timers, [timer]: dueMs } };
}

function withoutTimer(s: SessionState, timer: TimerName): SessionState {
  const { [timer]: _, ...rest } = s.timers;
  return { ...s, timers: rest };
}

function cancel(s: SessionState, fx: Fx, timer: TimerName): SessionState {
  if (s.timers[timer] === undefined) return s;
  fx.push({ type: "cancel", timer });
  return withoutTimer(s, timer);
}

/** mulberry32: a uniform draw in [0, 1) and the generator's next state. */
function nextRandom(seed: number): [number, number] {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [((t ^ (t >>> 14)) >>> 0) / 4_294_967_296, next];
}

function send<K extends DeviceMessageKind>(
  s: SessionState,
  fx: Fx,
  kind: K,
  body: DeviceMessageBody<K>,
  nowMs: number,
  extra: Pick<SendEffect, "results" | "slots"> = {},
): void {
  fx.push({
    type: "send",
    kind,
    text: sealDeviceFrame(s.config.identity, kind, body, nowMs),
    ...extra,
  });
}

function errorCode(error: unknown): string | undefined {
  return isDpnError(error) ? error.code : undefined;
}

function errorMessage(error: unknown): string {
  if (isDpnError(error)) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}

/** A frame that failed a check: reported with its code; the state is the one before it. */
function ignore(s: SessionState, fx: Fx, error: unknown): SessionState {
  report(fx, {
    type: "frame-ignored",
    code: errorCode(error) ?? DEVICE_FRAME_INVALID,
    message: errorMessage(error),
  });
  return s;
}

function outOfTurn(s: SessionState, fx: Fx, what: string, hint: string): SessionState {
  return ignore(
    s,
    fx,
    new DpnError(DEVICE_FRAME_INVALID, `${what} arrived in phase ${s.link.name}.`, { hint }),
  );
}

// ---- connection ----------------------------------------------------------------------------

function beginAttempt(s: SessionState, fx: Fx): SessionState {
  report(fx, { type: "connecting", url: s.config.channelUrl, attempt: s.attempt });
  fx.push({ type: "resolve-node", url: s.config.identityUrl });
  return { ...s, link: { name: "resolving" } };
}

/** Ends every task and timer: the session is over. */
function halt(s: SessionState, fx: Fx, close: boolean): SessionState {
  let next = s;
  for (const held of s.running.values()) {
    fx.push({
      type: "abort-task",
      taskId: held.lease.taskId,
      code: DEVICE_STOPPING,
      message: "The device stopped.",
      hint: "The node reassigns the task when its lease expires.",
    });
  }
  for (const timer of Object.keys(s.timers) as TimerName[]) next = cancel(next, fx, timer);
  if (close) fx.push({ type: "close", code: 1000, reason: "device stopping" });
  report(fx, { type: "stopped" });
  return {
    ...next,
    link: { name: "stopped" },
    running: new Map(),
    queued: [],
    outbox: [],
    granted: 0,
  };
}

/**
 * The connection is gone (or never came): retry after the backoff, or stop without one. Tasks
 * go on running; the node's credit is spent (a new session starts with none).
 */
function lose(
  s: SessionState,
  fx: Fx,
  nowMs: number,
  event: (retryInMs: number | undefined) => SessionEvent,
): SessionState {
  let next = cancel(cancel({ ...s, granted: 0 }, fx, "heartbeat"), fx, "flush");
  const { backoff } = s.config;
  if (backoff === undefined) {
    report(fx, event(undefined));
    return halt(next, fx, false);
  }
  const [unit, rng] = nextRandom(s.rng);
  const delayMs = backoffDelayMs(s.attempt, () => unit, backoff);
  report(fx, event(delayMs));
  next = {
    ...next,
    rng,
    attempt: s.attempt + 1,
    link: { name: "offline", retryAtMs: nowMs + delayMs },
  };
  return schedule(next, fx, "reconnect", nowMs + delayMs, nowMs);
}

function connectFailed(s: SessionState, fx: Fx, nowMs: number, error: unknown): SessionState {
  return lose(s, fx, nowMs, (retryInMs) => ({
    type: "connect-failed",
    code: errorCode(error) ?? DEVICE_FRAME_INVALID,
    message: errorMessage(error),
    retryInMs,
  }));
}

function onNodeIdentity(s: SessionState, text: string, nowMs: number, fx: Fx): SessionState {
  if (s.link.name !== "resolving") return s;
  let node: PublicIdentity;
  try {
    node = readNodeIdentity(text, s.pinnedNodeId, s.config.host);
  } catch (error) {
    return connectFailed(s, fx, nowMs, error);
  }
  fx.push({ type: "open-socket", url: s.config.channelUrl });
  return { ...s, pinnedNodeId: s.pinnedNodeId ?? node.id, link: { name: "connecting", node } };
}

function onConnected(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.link.name !== "connecting") return s;
  const { node } = s.link;
  report(fx, { type: "connected", nodeId: node.id, url: s.config.channelUrl });
  send(s, fx, "device.register", s.config.registerBody, nowMs);
  return { ...s, link: { name: "registering", node } };
}

// ---- frames from the node ------------------------------------------------------------------

function onFrame(
  s: SessionState,
  input: Extract<SessionInput, { type: "frame" }>,
  fx: Fx,
): SessionState {
  const node = linkNode(s.link);
  if (node === undefined) return s; // a frame of a socket this session no longer has
  const { nowMs } = input;
  if (input.binary === true) {
    return ignore(
      s,
      fx,
      new DpnError(DEVICE_FRAME_INVALID, "A binary frame arrived from the node.", {
        hint: "Every frame on the device channel is one envelope as JSON text.",
      }),
    );
  }
  let opened: ReturnType<typeof openNodeFrame>;
  try {
    opened = openNodeFrame(input.text, node, s.replay, {
      nowMs,
      notBeforeMs: s.config.startedAtMs,
      ...(s.config.policy === undefined ? {} : { policy: s.config.policy }),
    });
  } catch (error) {
    return ignore(s, fx, error);
  }
  const { message } = opened;
  report(fx, { type: "frame", message });
  const next: SessionState = { ...s, replay: opened.replay };
  switch (message.kind) {
    case "node.challenge":
      return onChallenge(next, message.body, fx);
    case "node.registered":
      if (next.link.name !== "answered") {
        return outOfTurn(
          next,
          fx,
          "node.registered",
          "The node registers a device once per connection, after its answer.",
        );
      }
      return activate(next, next.link.node, message.body, nowMs, fx);
    case "node.reclassified": {
      if (next.link.name !== "active") {
        return outOfTurn(
          next,
          fx,
          "node.reclassified",
          "The node reclassifies a registered device only.",
        );
      }
      const registration = { ...next.link.registration, ...message.body };
      report(fx, { type: "reclassified", registration });
      return { ...next, link: { ...next.link, registration } };
    }
    case "node.leases":
      if (next.link.name !== "active") {
        return outOfTurn(
          next,
          fx,
          "Leases",
          "The node leases work only after node.registered and device.ready.",
        );
      }
      return onLeases(next, message.body.leases, nowMs, fx);
    case "node.verdicts":
      for (const verdict of message.body.verdicts) report(fx, { type: "verdict", verdict });
      return next;
    case "node.error":
      report(fx, { type: "node-error", ...message.body });
      return next;
  }
}

function onChallenge(s: SessionState, challenge: Challenge, fx: Fx): SessionState {
  if (s.link.name !== "registering") {
    return outOfTurn(
      s,
      fx,
      "A challenge",
      "The node challenges a device once, right after device.register.",
    );
  }
  // Per lane the bound of one hash item; the lanes and the probe the device's own declaration.
  const { cores, memoryMiB } = s.config.registerBody;
  const excess =
    challenge.iterations > s.config.maxChallengeIterations
      ? `${challenge.iterations} iterations a lane; the limit is ${s.config.maxChallengeIterations}`
      : challenge.lanes > cores
        ? `${challenge.lanes} lanes; the device declared ${cores} cores`
        : challenge.memoryMiB > memoryMiB
          ? `a ${challenge.memoryMiB} MiB probe; the device declared ${memoryMiB} MiB`
          : undefined;
  if (excess !== undefined) {
    return ignore(
      s,
      fx,
      new DpnError(DEVICE_CHALLENGE_TOO_LARGE, `The challenge asks ${excess}.`, {
        hint: "The node is misconfigured; it will time the registration out.",
      }),
    );
  }
  report(fx, {
    type: "challenge",
    challengeId: challenge.challengeId,
    iterations: challenge.iterations,
  });
  fx.push({ type: "solve-challenge", challenge });
  return {
    ...s,
    link: {
      name: "answering",
      node: s.link.node,
      challengeId: challenge.challengeId,
      iterations: challenge.iterations,
    },
  };
}

function onSolved(
  s: SessionState,
  input: Extract<SessionInput, { type: "challenge-solved" }>,
  fx: Fx,
): SessionState {
  if (s.link.name !== "answering" || s.link.challengeId !== input.challengeId) return s;
  send(
    s,
    fx,
    "device.challenge-answer",
    {
      challengeId: input.challengeId,
      digests: [...input.digests],
      ...(input.memoryDigest === undefined ? {} : { memoryDigest: input.memoryDigest }),
      elapsedMs: input.elapsedMs,
    },
    input.nowMs,
  );
  report(fx, {
    type: "challenge-answered",
    iterations: s.link.iterations,
    elapsedMs: input.elapsedMs,
  });
  return { ...s, link: { name: "answered", node: s.link.node } };
}

function activate(
  s: SessionState,
  node: PublicIdentity,
  registration: Registration,
  nowMs: number,
  fx: Fx,
): SessionState {
  let next: SessionState = {
    ...s,
    link: { name: "active", node, registration },
    attempt: 0,
    granted: 0, // a new session starts with no credit at the node
    sessions: s.sessions + 1,
  };
  report(fx, { type: "registered", registration });
  // Results that finished while offline go first, then the queue, then the free slots.
  next = flushNow(startQueued(sendOutbox(next, nowMs, fx), nowMs, fx), nowMs, fx);
  if (s.config.slots > 0) {
    next = schedule(next, fx, "heartbeat", nowMs + s.config.heartbeatMs, nowMs);
  }
  return armExpiry(next, nowMs, fx);
}

// ---- leases and tasks ----------------------------------------------------------------------

function start(running: Map<string, HeldLease>, held: HeldLease, fx: Fx): void {
  running.set(held.lease.taskId, held);
  report(fx, { type: "task-started", lease: held.lease });
  fx.push({ type: "run-task", lease: held.lease });
}

function onLeases(s: SessionState, leases: readonly Lease[], nowMs: number, fx: Fx): SessionState {
  const { slots, taskTypes } = s.config;
  if (slots === 0) return s; // the shell leases by hand: the frame was reported
  const running = new Map(s.running);
  const queued = s.queued.slice();
  const queuedIds = new Set(queued.map((h) => h.lease.taskId));
  let skipped = 0;
  const skip = (taskId: string, reason: string): void => {
    report(fx, { type: "lease-ignored", taskId, reason });
    skipped += 1;
  };
  for (const lease of leases) {
    const { taskId } = lease;
    if (running.has(taskId) || queuedIds.has(taskId)) {
      report(fx, { type: "lease-ignored", taskId, reason: "a duplicate of a lease held" });
      continue;
    }
    if (!taskTypes.has(lease.type)) {
      skip(taskId, `of type ${lease.type}, which this device did not offer`);
      continue;
    }
    if (lease.leaseExpiresAtMs <= nowMs) {
      skip(taskId, "expired before it arrived");
      continue;
    }
    const held: HeldLease = {
      lease,
      durationMs: lease.leaseExpiresAtMs - nowMs,
      expiresAtMs: lease.leaseExpiresAtMs,
    };
    if (running.size < slots) start(running, held, fx);
    else if (queued.length < slots) {
      queued.push(held);
      queuedIds.add(taskId);
    } else {
      // Beyond slots + queue: the node gets the task back when the lease expires.
      report(fx, { type: "lease-ignored", taskId, reason: "beyond the device's slots and queue" });
    }
  }
  let next: SessionState = {
    ...s,
    running,
    queued,
    granted: Math.max(0, s.granted - leases.length),
  };
  // The node spent credit on the skipped leases: offer that capacity again.
  if (skipped > 0) next = scheduleFlush(next, nowMs, fx);
  return armExpiry(next, nowMs, fx);
}

/** Starts queued leases while slots are free, dropping those that expired while waiting. */
function startQueued(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.queued.length === 0 || s.running.size >= s.config.slots) return s;
  const running = new Map(s.running);
  const queued = s.queued.slice();
  while (running.size < s.config.slots) {
    const held = queued.shift();
    if (held === undefined) break;
    if (held.expiresAtMs <= nowMs) {
      report(fx, { type: "lease-ignored", taskId: held.lease.taskId, reason: "expired queued" });
      continue;
    }
    start(running, held, fx);
  }
  return { ...s, running, queued };
}

/** One timer at the earliest expiry of a held lease. */
function armExpiry(s: SessionState, nowMs: number, fx: Fx): SessionState {
  let earliest = Number.POSITIVE_INFINITY;
  for (const held of s.running.values()) earliest = Math.min(earliest, held.expiresAtMs);
  for (const held of s.queued) earliest = Math.min(earliest, held.expiresAtMs);
  if (earliest === Number.POSITIVE_INFINITY) return cancel(s, fx, "expiry");
  if (s.timers.expiry === earliest) return s;
  return schedule(s, fx, "expiry", earliest, nowMs);
}

/** Results and credit go out together, once per turn: the flush timer is due at once. */
function scheduleFlush(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.link.name !== "active" || s.timers.flush !== undefined) return s;
  return schedule(s, fx, "flush", nowMs, nowMs);
}

function flushNow(s: SessionState, nowMs: number, fx: Fx): SessionState {
  return offer(sendOutbox(s, nowMs, fx), nowMs, fx);
}

function sendOutbox(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.outbox.length === 0 || s.link.name !== "active") return s;
  let frame: Finished[] = [];
  let bytes = RESULTS_FRAME_OVERHEAD;
  const flush = (): void => {
    if (frame.length === 0) return;
    send(s, fx, "device.results", { results: frame.map((f) => f.result) }, nowMs, {
      results: frame,
    });
    frame = [];
    bytes = RESULTS_FRAME_OVERHEAD;
  };
  for (const finished of s.outbox) {
    if (finished.expiresAtMs <= nowMs) {
      report(fx, { type: "task-abandoned", lease: finished.lease, reason: "unsent" });
      continue;
    }
    if (frame.length >= MAX_RESULTS_PER_FRAME || bytes + finished.bytes + 1 > MAX_PAYLOAD_BYTES) {
      flush();
    }
    frame.push(finished);
    bytes += finished.bytes + 1;
  }
  flush();
  return { ...s, outbox: [] };
}

/** Tells the node how many more leases the device takes now (see the module's comment). */
function offer(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.link.name !== "active" || s.paused || s.config.slots === 0) return s;
  const free = s.config.slots - s.running.size - s.queued.length - s.granted;
  if (free < s.config.offerAtLeast) return s;
  send(s, fx, "device.ready", { slots: free }, nowMs, { slots: free });
  return { ...s, granted: s.granted + free };
}

/** A slot was freed: run what waits, then offer the rest to the node (at the flush). */
function slotFreed(s: SessionState, nowMs: number, fx: Fx): SessionState {
  return armExpiry(scheduleFlush(startQueued(s, nowMs, fx), nowMs, fx), nowMs, fx);
}

function release(s: SessionState, taskId: string): SessionState {
  const running = new Map(s.running);
  running.delete(taskId);
  return { ...s, running };
}

function onFinished(s: SessionState, result: TaskResult, nowMs: number, fx: Fx): SessionState {
  const held = s.running.get(result.taskId);
  if (held === undefined) return s; // abandoned or stopped meanwhile
  const next = release(s, result.taskId);
  const failed = (code: string, message: string, error: unknown): SessionState => {
    report(fx, { type: "task-failed", lease: held.lease, code, message, error });
    return slotFreed(next, nowMs, fx);
  };
  let checked: TaskResult;
  try {
    checked = parseMessage(TaskResult, result, "task result");
  } catch (error) {
    return failed(errorCode(error) ?? DEVICE_FRAME_INVALID, errorMessage(error), error);
  }
  const bytes = JSON.stringify(checked).length;
  if (bytes + RESULTS_FRAME_OVERHEAD > MAX_PAYLOAD_BYTES) {
    const error = new DpnError(
      DEVICE_MESSAGE_TOO_LARGE,
      `The result of task ${result.taskId} (${bytes} bytes) exceeds the ${MAX_PAYLOAD_BYTES}-byte limit of a frame.`,
      {
        hint: "The node leased more items than one frame can answer (about 800 Groth16 proofs); it should split jobs into smaller tasks.",
      },
    );
    return failed(DEVICE_MESSAGE_TOO_LARGE, error.shortMessage, error);
  }
  if (held.expiresAtMs <= nowMs) {
    report(fx, { type: "task-abandoned", lease: held.lease, reason: "late" });
    return slotFreed(next, nowMs, fx);
  }
  const sent = next.link.name === "active";
  report(fx, { type: "task-finished", lease: held.lease, result: checked, sent });
  return slotFreed(
    {
      ...next,
      outbox: [
        ...next.outbox,
        { lease: held.lease, result: checked, expiresAtMs: held.expiresAtMs, bytes },
      ],
    },
    nowMs,
    fx,
  );
}

function onTaskFailed(s: SessionState, taskId: string, error: unknown, nowMs: number, fx: Fx) {
  const held = s.running.get(taskId);
  if (held === undefined) return s;
  // The protocol has no failure message: the lease expires and the node reassigns the task.
  report(fx, {
    type: "task-failed",
    lease: held.lease,
    code: errorCode(error),
    message: errorMessage(error),
    error,
  });
  return slotFreed(release(s, taskId), nowMs, fx);
}

function onExpiry(s: SessionState, nowMs: number, fx: Fx): SessionState {
  let running: Map<string, HeldLease> | undefined;
  for (const held of s.running.values()) {
    if (held.expiresAtMs > nowMs) continue;
    running ??= new Map(s.running);
    running.delete(held.lease.taskId);
    fx.push({
      type: "abort-task",
      taskId: held.lease.taskId,
      code: DEVICE_LEASE_EXPIRED,
      message: `The lease of task ${held.lease.taskId} expired.`,
      hint: "The node reassigns the task; a device that is often late gets smaller leases.",
    });
    report(fx, { type: "task-abandoned", lease: held.lease, reason: "expired" });
  }
  const queued = s.queued.filter((held) => {
    if (held.expiresAtMs > nowMs) return true;
    report(fx, { type: "lease-ignored", taskId: held.lease.taskId, reason: "expired queued" });
    return false;
  });
  const changed = running !== undefined || queued.length !== s.queued.length;
  const next = { ...s, running: running ?? s.running, queued };
  return changed ? slotFreed(next, nowMs, fx) : armExpiry(next, nowMs, fx);
}

function onHeartbeat(s: SessionState, nowMs: number, fx: Fx): SessionState {
  if (s.link.name !== "active") return s;
  let next = s;
  if (!s.paused) {
    const held = [...s.running.values(), ...s.queued].slice(0, MAX_LEASES_PER_FRAME);
    send(s, fx, "device.heartbeat", { activeTaskIds: held.map((h) => h.lease.taskId) }, nowMs);
    // The node renews every listed lease to now + its lease length (its scheduler's heartbeat);
    // mirror it, or long tasks would be abandoned here while the node still counts on them.
    const renewed = new Set(held.map((h) => h.lease.taskId));
    const renew = (h: HeldLease): HeldLease =>
      renewed.has(h.lease.taskId)
        ? { ...h, expiresAtMs: Math.max(h.expiresAtMs, nowMs + h.durationMs) }
        : h;
    next = {
      ...s,
      running: new Map([...s.running].map(([id, h]) => [id, renew(h)])),
      queued: s.queued.map(renew),
    };
    next = armExpiry(next, nowMs, fx);
  }
  return schedule(next, fx, "heartbeat", nowMs + s.config.heartbeatMs, nowMs);
}

function onTimer(s: SessionState, timer: TimerName, nowMs: number, fx: Fx): SessionState {
  if (s.timers[timer] === undefined) return s; // cancelled meanwhile
  const next = withoutTimer(s, timer);
  switch (timer) {
    case "reconnect":
      return next.link.name === "offline" ? beginAttempt(next, fx) : next;
    case "heartbeat":
      return onHeartbeat(next, nowMs, fx);
    case "expiry":
      return onExpiry(next, nowMs, fx);
    case "flush":
      return flushNow(next, nowMs, fx);
  }
}

function onSendFailed(s: SessionState, effect: SendEffect): SessionState {
  if (s.link.name === "stopped") return s;
  if (effect.results !== undefined) return { ...s, outbox: [...effect.results, ...s.outbox] };
  if (effect.slots !== undefined) return { ...s, granted: Math.max(0, s.granted - effect.slots) };
  return s;
}

function reduce(s: SessionState, input: SessionInput, fx: Fx): SessionState {
  const { nowMs } = input;
  switch (input.type) {
    case "start":
      return s.link.name === "idle" ? beginAttempt(s, fx) : s;
    case "node-identity":
      return onNodeIdentity(s, input.text, nowMs, fx);
    case "node-unreachable":
      if (s.link.name !== "resolving") return s;
      return connectFailed(s, fx, nowMs, nodeUnreachable(s.config.identityUrl, input.message));
    case "connected":
      return onConnected(s, nowMs, fx);
    case "frame":
      return onFrame(s, input, fx);
    case "timer":
      return onTimer(s, input.timer, nowMs, fx);
    case "challenge-solved":
      return onSolved(s, input, fx);
    case "challenge-failed":
      if (s.link.name !== "answering" || s.link.challengeId !== input.challengeId) return s;
      report(fx, { type: "challenge-failed", message: errorMessage(input.error) });
      // The registration cannot complete on this connection: start again.
      fx.push({ type: "close", code: 4000, reason: "challenge failed" });
      return s;
    case "task-finished":
      return onFinished(s, input.result, nowMs, fx);
    case "task-failed":
      return onTaskFailed(s, input.taskId, input.error, nowMs, fx);
    case "send-failed":
      return onSendFailed(s, input.effect);
    case "paused":
      if (s.paused === input.paused || s.link.name === "stopped") return s;
      return input.paused
        ? { ...s, paused: true }
        : scheduleFlush({ ...s, paused: false }, nowMs, fx);
    case "closed":
      if (linkNode(s.link) === undefined) return s;
      return lose(s, fx, nowMs, (retryInMs) => ({
        type: "closed",
        code: input.code,
        reason: input.reason,
        retryInMs,
      }));
    case "stop":
      return s.link.name === "stopped" ? s : halt(s, fx, linkNode(s.link) !== undefined);
  }
}
