import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import type { Lease } from "../channel.ts";
import { bytesToBase64 } from "../encoding.ts";
import { seal } from "../envelope.ts";
import { type Identity, identityFromSeeds } from "../identity.ts";
import {
  createSession,
  type SessionEffect,
  type SessionInput,
  type SessionOptions,
  type SessionState,
  step,
} from "./machine.ts";

/**
 * The session machine, one input at a time: given a state and an input, the effects it asks for
 * and the state it moves to. States are built by feeding the machine its own inputs from the
 * start, so every row starts from a state the machine can reach.
 */
const seed = (label: string): Uint8Array => sha256(utf8ToBytes(label));
const identityOf = (label: string): Identity =>
  identityFromSeeds(seed(`${label}/ed`), seed(`${label}/pq`));
const NODE = identityOf("machine-node");
const DEVICE = identityOf("machine-device");
const IMPOSTOR = identityOf("machine-impostor");
const T0 = 1_800_000_000_000;
const NODE_URL = "http://node.test:7400";

const nodeDocument = (identity: Identity = NODE): string =>
  JSON.stringify({
    id: identity.id,
    ed25519PublicKey: bytesToBase64(identity.ed25519PublicKey),
    mldsa44PublicKey: bytesToBase64(identity.mldsa44PublicKey),
  });

const nodeFrame = (kind: string, body: unknown, from: Identity = NODE, nowMs = T0): string =>
  JSON.stringify(seal(from, kind, body, { nowMs }));

const options = (overrides: Partial<SessionOptions> = {}): SessionOptions => ({
  nodeUrl: NODE_URL,
  identity: DEVICE,
  register: {
    owner: identityOf("machine-owner").id,
    deviceClass: "pc",
    fingerprint: "ab".repeat(32),
    geohash: "u33d",
    cores: 2,
    memoryMiB: 4096,
    agentVersion: "test",
    taskTypes: ["hash"],
  },
  slots: 2,
  heartbeatMs: 10_000,
  backoff: { initialMs: 1000, maxMs: 8000, factor: 2 },
  startedAtMs: T0 - 1000,
  jitterSeed: 7,
  ...overrides,
});

const CHALLENGE = {
  challengeId: "ch-1",
  seed: "11".repeat(32),
  iterations: 1000,
  lanes: 1,
  memoryMiB: 0,
};
const REGISTERED = {
  deviceId: DEVICE.id,
  deviceClass: "pc",
  layer: "heavy",
  longTail: false,
  benchmarkCuPerSec: 1.5,
  reason: "pc at 1.5 CU/s",
};
const lease = (taskId: string, overrides: Partial<Lease> = {}): Lease =>
  ({
    taskId,
    jobId: "job-1",
    type: "hash",
    leaseExpiresAtMs: T0 + 60_000,
    artifacts: {},
    items: [{ seed: "22".repeat(32), iterations: 10 }],
    ...overrides,
  }) as Lease;
const resultOf = (taskId: string) => ({
  taskId,
  outputs: [{ digest: "33".repeat(32) }],
  elapsedMs: 5,
});

/** Feeds inputs in turn; returns the last state and the effects of the last input. */
function run(state: SessionState, ...inputs: SessionInput[]) {
  let current = state;
  let effects: readonly SessionEffect[] = [];
  for (const input of inputs) ({ state: current, effects } = step(current, input));
  return { state: current, effects };
}

const at = (ms: number) => T0 + ms;
const states = {
  idle: (o?: Partial<SessionOptions>) => createSession(options(o)),
  resolving: (o?: Partial<SessionOptions>) =>
    run(states.idle(o), { type: "start", nowMs: T0 }).state,
  connecting: (o?: Partial<SessionOptions>) =>
    run(states.resolving(o), { type: "node-identity", nowMs: T0, text: nodeDocument() }).state,
  registering: (o?: Partial<SessionOptions>) =>
    run(states.connecting(o), { type: "connected", nowMs: T0 }).state,
  answering: (o?: Partial<SessionOptions>) =>
    run(states.registering(o), {
      type: "frame",
      nowMs: T0,
      text: nodeFrame("node.challenge", CHALLENGE),
    }).state,
  answered: (o?: Partial<SessionOptions>) =>
    run(states.answering(o), {
      type: "challenge-solved",
      nowMs: T0,
      challengeId: "ch-1",
      digests: ["44".repeat(32)],
      elapsedMs: 400,
    }).state,
  active: (o?: Partial<SessionOptions>) =>
    run(states.answered(o), {
      type: "frame",
      nowMs: T0,
      text: nodeFrame("node.registered", REGISTERED),
    }).state,
  /** Active with task "a" running (its lease ends at T0 + 60 s). */
  working: (o?: Partial<SessionOptions>) =>
    run(states.active(o), {
      type: "frame",
      nowMs: at(10),
      text: nodeFrame("node.leases", { leases: [lease("a")] }),
    }).state,
};

/** An effect in a few words: what a row expects. Sent frames are opened to kind and body. */
function summary(effect: SessionEffect): unknown[] {
  switch (effect.type) {
    case "send": {
      const envelope = JSON.parse(effect.text) as { kind: string; from: string; payload: string };
      expect(envelope.from).toBe(DEVICE.id);
      return ["send", envelope.kind, JSON.parse(envelope.payload)];
    }
    case "report": {
      const { event } = effect;
      switch (event.type) {
        case "frame":
          return ["report", "frame", event.message.kind];
        case "frame-ignored":
          return ["report", "frame-ignored", event.code];
        case "connect-failed":
          return ["report", "connect-failed", event.code, event.retryInMs];
        case "closed":
          return ["report", "closed", event.code, event.retryInMs];
        case "task-started":
        case "task-finished":
          return ["report", event.type, event.lease.taskId];
        case "task-failed":
          return ["report", event.type, event.lease.taskId, event.code];
        case "task-abandoned":
          return ["report", event.type, event.lease.taskId, event.reason];
        case "lease-ignored":
          return ["report", event.type, event.taskId];
        default:
          return ["report", event.type];
      }
    }
    case "schedule":
      return ["schedule", effect.timer, effect.delayMs];
    case "cancel":
      return ["cancel", effect.timer];
    case "resolve-node":
    case "open-socket":
      return [effect.type, effect.url];
    case "close":
      return ["close", effect.code];
    case "solve-challenge":
      return ["solve-challenge", effect.challenge.challengeId];
    case "run-task":
      return ["run-task", effect.lease.taskId];
    case "abort-task":
      return ["abort-task", effect.taskId, effect.code];
  }
}

interface Row {
  readonly name: string;
  readonly given: () => SessionState;
  readonly input: SessionInput;
  readonly effects: unknown[][];
  /** The phase after the input (default: checked only through the effects). */
  readonly phase?: SessionState["link"]["name"];
  readonly check?: (after: SessionState, before: SessionState) => void;
}

function table(rows: readonly Row[]): void {
  for (const row of rows) {
    it(row.name, () => {
      const before = row.given();
      const { state, effects } = step(before, row.input);
      expect(effects.map(summary)).toEqual(row.effects);
      if (row.phase !== undefined) expect(state.link.name).toBe(row.phase);
      row.check?.(state, before);
    });
  }
}

const ready = (slots: number) => ["send", "device.ready", { slots }];

describe("connecting and registering", () => {
  table([
    {
      name: "start asks for the node's identity",
      given: () => states.idle(),
      input: { type: "start", nowMs: T0 },
      effects: [
        ["report", "connecting"],
        ["resolve-node", `${NODE_URL}/v1/node`],
      ],
      phase: "resolving",
    },
    {
      name: "a valid node identity opens the socket and is pinned",
      given: () => states.resolving(),
      input: { type: "node-identity", nowMs: T0, text: nodeDocument() },
      effects: [["open-socket", "ws://node.test:7400/v1/devices/ws"]],
      phase: "connecting",
      check: (after) => expect(after.pinnedNodeId).toBe(NODE.id),
    },
    {
      name: "another node than the pinned one is refused, with a retry after the backoff",
      given: () => states.resolving({ nodeId: IMPOSTOR.id }),
      input: { type: "node-identity", nowMs: T0, text: nodeDocument() },
      effects: [
        ["report", "connect-failed", "DEVICE_NODE_ID_MISMATCH", 505],
        ["schedule", "reconnect", 505],
      ],
      phase: "offline",
    },
    {
      name: "an identity whose id does not commit to its keys is refused",
      given: () => states.resolving(),
      input: {
        type: "node-identity",
        nowMs: T0,
        text: nodeDocument().replace(NODE.id, IMPOSTOR.id),
      },
      effects: [
        ["report", "connect-failed", "DEVICE_NODE_IDENTITY_INVALID", 505],
        ["schedule", "reconnect", 505],
      ],
    },
    {
      name: "an unreachable node is retried",
      given: () => states.resolving(),
      input: { type: "node-unreachable", nowMs: T0, message: "ECONNREFUSED" },
      effects: [
        ["report", "connect-failed", "DEVICE_NODE_UNREACHABLE", 505],
        ["schedule", "reconnect", 505],
      ],
    },
    {
      name: "without a backoff a failed attempt stops the session",
      given: () => states.resolving({ backoff: false }),
      input: { type: "node-unreachable", nowMs: T0, message: "ECONNREFUSED" },
      effects: [
        ["report", "connect-failed", "DEVICE_NODE_UNREACHABLE", undefined],
        ["report", "stopped"],
      ],
      phase: "stopped",
    },
    {
      name: "the reconnect timer starts the next attempt",
      given: () =>
        run(states.resolving(), { type: "node-unreachable", nowMs: T0, message: "down" }).state,
      input: { type: "timer", nowMs: at(505), timer: "reconnect" },
      effects: [
        ["report", "connecting"],
        ["resolve-node", `${NODE_URL}/v1/node`],
      ],
      check: (after) => expect(after.attempt).toBe(1),
    },
    {
      name: "the open socket carries device.register with the identity's keys",
      given: () => states.connecting(),
      input: { type: "connected", nowMs: T0 },
      effects: [
        ["report", "connected"],
        [
          "send",
          "device.register",
          {
            ...options().register,
            ed25519PublicKey: bytesToBase64(DEVICE.ed25519PublicKey),
            mldsa44PublicKey: bytesToBase64(DEVICE.mldsa44PublicKey),
          },
        ],
      ],
      phase: "registering",
    },
    {
      name: "the challenge is solved by the shell",
      given: () => states.registering(),
      input: { type: "frame", nowMs: T0, text: nodeFrame("node.challenge", CHALLENGE) },
      effects: [
        ["report", "frame", "node.challenge"],
        ["report", "challenge"],
        ["solve-challenge", "ch-1"],
      ],
      phase: "answering",
    },
    {
      name: "a challenge beyond maxChallengeIterations is refused",
      given: () => states.registering({ maxChallengeIterations: 999 }),
      input: { type: "frame", nowMs: T0, text: nodeFrame("node.challenge", CHALLENGE) },
      effects: [
        ["report", "frame", "node.challenge"],
        ["report", "frame-ignored", "DEVICE_CHALLENGE_TOO_LARGE"],
      ],
      phase: "registering",
    },
    {
      name: "the answer goes out once the shell solved the challenge",
      given: () => states.answering(),
      input: {
        type: "challenge-solved",
        nowMs: T0,
        challengeId: "ch-1",
        digests: ["44".repeat(32)],
        elapsedMs: 400,
      },
      effects: [
        [
          "send",
          "device.challenge-answer",
          { challengeId: "ch-1", digests: ["44".repeat(32)], elapsedMs: 400 },
        ],
        ["report", "challenge-answered"],
      ],
      phase: "answered",
    },
    {
      name: "the answer to another challenge (an old connection's) is dropped",
      given: () => states.answering(),
      input: {
        type: "challenge-solved",
        nowMs: T0,
        challengeId: "ch-0",
        digests: ["44".repeat(32)],
        elapsedMs: 400,
      },
      effects: [],
      check: (after, before) => expect(after).toBe(before),
    },
    {
      name: "a failed challenge closes the connection, to start again",
      given: () => states.answering(),
      input: { type: "challenge-failed", nowMs: T0, challengeId: "ch-1", error: new Error("x") },
      effects: [
        ["report", "challenge-failed"],
        ["close", 4000],
      ],
    },
    {
      name: "node.registered offers every slot and starts the heartbeat",
      given: () => states.answered(),
      input: { type: "frame", nowMs: T0, text: nodeFrame("node.registered", REGISTERED) },
      effects: [
        ["report", "frame", "node.registered"],
        ["report", "registered"],
        ready(2),
        ["schedule", "heartbeat", 10_000],
      ],
      phase: "active",
      check: (after) => expect(after).toMatchObject({ granted: 2, sessions: 1, attempt: 0 }),
    },
    {
      name: "a paused device registers but offers nothing",
      given: () => run(states.answered(), { type: "paused", nowMs: T0, paused: true }).state,
      input: { type: "frame", nowMs: T0, text: nodeFrame("node.registered", REGISTERED) },
      effects: [
        ["report", "frame", "node.registered"],
        ["report", "registered"],
        ["schedule", "heartbeat", 10_000],
      ],
    },
    {
      name: "a session with slots: 0 registers only (the shell leases by hand)",
      given: () => states.answered({ slots: 0 }),
      input: { type: "frame", nowMs: T0, text: nodeFrame("node.registered", REGISTERED) },
      effects: [
        ["report", "frame", "node.registered"],
        ["report", "registered"],
      ],
    },
  ]);
});

describe("bad frames from the node: a coded report, the state unchanged", () => {
  const genuine = nodeFrame("node.verdicts", { verdicts: [] });
  const seen = () => run(states.active(), { type: "frame", nowMs: T0, text: genuine }).state;
  const rows: [string, () => SessionState, string, string][] = [
    [
      "a payload altered after signing",
      states.active,
      JSON.stringify({ ...JSON.parse(genuine), payload: '{"verdicts":[ ]}' }),
      "ENVELOPE_BAD_SIGNATURE",
    ],
    [
      "a frame signed by another identity in the node's name",
      states.active,
      JSON.stringify({
        ...JSON.parse(nodeFrame("node.verdicts", { verdicts: [] }, IMPOSTOR)),
        from: NODE.id,
      }),
      "ENVELOPE_BAD_SIGNATURE",
    ],
    ["a replayed frame", seen, genuine, "ENVELOPE_REPLAYED"],
    [
      "a lease whose items break its kind's item schema",
      states.active,
      nodeFrame("node.leases", {
        leases: [lease("a", { items: [{ seed: "22".repeat(32), iterations: 0 }] } as never)],
      }),
      "MESSAGE_INVALID",
    ],
    [
      "a body that breaks its message's schema",
      states.active,
      nodeFrame("node.verdicts", { verdicts: [{ taskId: "a", accepted: "yes", reward: "1" }] }),
      "MESSAGE_INVALID",
    ],
    ["an unknown message kind", states.active, nodeFrame("node.bogus", {}), "DEVICE_FRAME_INVALID"],
    ["a frame that is not JSON", states.active, "{not json", "DEVICE_FRAME_INVALID"],
    [
      "an expired frame",
      states.active,
      nodeFrame("node.verdicts", { verdicts: [] }, NODE, T0 - 10 * 60_000),
      "ENVELOPE_EXPIRED",
    ],
  ];
  for (const [name, given, text, code] of rows) {
    it(name, () => {
      const before = given();
      const { state, effects } = step(before, { type: "frame", nowMs: T0, text });
      expect(effects.map(summary)).toEqual([["report", "frame-ignored", code]]);
      expect(state).toBe(before);
    });
  }

  it("a binary frame", () => {
    const before = states.active();
    const { state, effects } = step(before, { type: "frame", nowMs: T0, text: "", binary: true });
    expect(effects.map(summary)).toEqual([["report", "frame-ignored", "DEVICE_FRAME_INVALID"]]);
    expect(state).toBe(before);
  });

  table([
    {
      name: "leases before registration are out of turn",
      given: () => states.answered(),
      input: {
        type: "frame",
        nowMs: T0,
        text: nodeFrame("node.leases", { leases: [lease("a")] }),
      },
      effects: [
        ["report", "frame", "node.leases"],
        ["report", "frame-ignored", "DEVICE_FRAME_INVALID"],
      ],
      check: (after) => expect(after.running.size).toBe(0),
    },
    {
      name: "a second challenge is out of turn",
      given: () => states.active(),
      input: {
        type: "frame",
        nowMs: T0,
        text: nodeFrame("node.challenge", { ...CHALLENGE, challengeId: "ch-2" }),
      },
      effects: [
        ["report", "frame", "node.challenge"],
        ["report", "frame-ignored", "DEVICE_FRAME_INVALID"],
      ],
      phase: "active",
    },
  ]);
});

describe("leases, results and credit", () => {
  const leases = (...list: Lease[]) => nodeFrame("node.leases", { leases: list });
  table([
    {
      name: "a lease runs and its expiry is watched",
      given: () => states.active(),
      input: { type: "frame", nowMs: at(10), text: leases(lease("a")) },
      effects: [
        ["report", "frame", "node.leases"],
        ["report", "task-started", "a"],
        ["run-task", "a"],
        ["schedule", "expiry", 59_990],
      ],
      check: (after) => expect(after).toMatchObject({ granted: 1 }),
    },
    {
      name: "beyond the slots leases queue, beyond the queue they are left to expire",
      given: () => states.active({ slots: 1 }),
      input: { type: "frame", nowMs: at(10), text: leases(lease("a"), lease("b"), lease("c")) },
      effects: [
        ["report", "frame", "node.leases"],
        ["report", "task-started", "a"],
        ["run-task", "a"],
        ["report", "lease-ignored", "c"],
        ["schedule", "expiry", 59_990],
      ],
      check: (after) => {
        expect([...after.running.keys()]).toEqual(["a"]);
        expect(after.queued.map((h) => h.lease.taskId)).toEqual(["b"]);
        expect(after.granted).toBe(0);
      },
    },
    {
      name: "a duplicate, a kind not offered and an expired lease are skipped; the credit is offered again",
      given: () => states.working(),
      input: {
        type: "frame",
        nowMs: at(20),
        text: leases(
          lease("a"),
          lease("z", { type: "zk-groth16", items: [{ h0: "1" }] } as never),
          lease("x", { leaseExpiresAtMs: at(5) }),
        ),
      },
      effects: [
        ["report", "frame", "node.leases"],
        ["report", "lease-ignored", "a"],
        ["report", "lease-ignored", "z"],
        ["report", "lease-ignored", "x"],
        ["schedule", "flush", 0],
      ],
    },
    {
      name: "a finished task's result waits for the turn's flush",
      given: () => states.working(),
      input: { type: "task-finished", nowMs: at(500), result: resultOf("a") },
      effects: [
        ["report", "task-finished", "a"],
        ["schedule", "flush", 0],
        ["cancel", "expiry"],
      ],
      check: (after) => expect(after.outbox.map((f) => f.result.taskId)).toEqual(["a"]),
    },
    {
      name: "the flush sends the turn's results in one frame, then the free credit",
      given: () =>
        run(
          states.working(),
          { type: "frame", nowMs: at(20), text: leases(lease("b")) },
          { type: "task-finished", nowMs: at(500), result: resultOf("a") },
          { type: "task-finished", nowMs: at(501), result: resultOf("b") },
        ).state,
      input: { type: "timer", nowMs: at(502), timer: "flush" },
      effects: [["send", "device.results", { results: [resultOf("a"), resultOf("b")] }], ready(2)],
      check: (after) => expect(after).toMatchObject({ outbox: [], granted: 2 }),
    },
    {
      name: "with offerAtLeast the credit waits until enough slots are free",
      given: () =>
        run(states.working({ slots: 4, offerAtLeast: 2 }), {
          type: "task-finished",
          nowMs: at(500),
          result: resultOf("a"),
        }).state,
      input: { type: "timer", nowMs: at(501), timer: "flush" },
      effects: [["send", "device.results", { results: [resultOf("a")] }]],
      check: (after) => expect(after.granted).toBe(3),
    },
    {
      name: "a result that no frame can carry fails its task",
      given: () => states.working(),
      input: {
        type: "task-finished",
        nowMs: at(500),
        result: {
          taskId: "a",
          outputs: Array.from({ length: 10_000 }, () => ({ blob: "x".repeat(200) })),
          elapsedMs: 1,
        },
      },
      effects: [
        ["report", "task-failed", "a", "DEVICE_MESSAGE_TOO_LARGE"],
        ["schedule", "flush", 0],
        ["cancel", "expiry"],
      ],
    },
    {
      name: "a task that finished after its lease is dropped",
      given: () => states.working(),
      input: { type: "task-finished", nowMs: at(70_000), result: resultOf("a") },
      effects: [
        ["report", "task-abandoned", "a", "late"],
        ["schedule", "flush", 0],
        ["cancel", "expiry"],
      ],
      check: (after) => expect(after.outbox).toEqual([]),
    },
    {
      name: "a failed task frees its slot",
      given: () => states.working(),
      input: { type: "task-failed", nowMs: at(500), taskId: "a", error: new Error("boom") },
      effects: [
        ["report", "task-failed", "a", undefined],
        ["schedule", "flush", 0],
        ["cancel", "expiry"],
      ],
    },
    {
      name: "the result of a task no longer held is ignored",
      given: () => states.active(),
      input: { type: "task-finished", nowMs: at(500), result: resultOf("a") },
      effects: [],
      check: (after, before) => expect(after).toBe(before),
    },
    {
      name: "an expired lease aborts its task and frees the slot",
      given: () => states.working(),
      input: { type: "timer", nowMs: at(60_000), timer: "expiry" },
      effects: [
        ["abort-task", "a", "DEVICE_LEASE_EXPIRED"],
        ["report", "task-abandoned", "a", "expired"],
        ["schedule", "flush", 0],
      ],
      check: (after) => expect(after.running.size).toBe(0),
    },
    {
      name: "the heartbeat lists the held leases and renews them as the node does",
      given: () => states.working(),
      input: { type: "timer", nowMs: at(10_000), timer: "heartbeat" },
      effects: [
        ["send", "device.heartbeat", { activeTaskIds: ["a"] }],
        ["schedule", "expiry", 59_990],
        ["schedule", "heartbeat", 10_000],
      ],
      check: (after) => expect(after.running.get("a")?.expiresAtMs).toBe(at(69_990)),
    },
    {
      name: "a paused device sends no heartbeat: its leases run out",
      given: () => run(states.working(), { type: "paused", nowMs: at(1), paused: true }).state,
      input: { type: "timer", nowMs: at(10_000), timer: "heartbeat" },
      effects: [["schedule", "heartbeat", 10_000]],
    },
    {
      name: "resuming offers the capacity at the next flush",
      given: () =>
        run(
          states.answered(),
          { type: "paused", nowMs: T0, paused: true },
          { type: "frame", nowMs: T0, text: nodeFrame("node.registered", REGISTERED) },
        ).state,
      input: { type: "paused", nowMs: at(5), paused: false },
      effects: [["schedule", "flush", 0]],
    },
    {
      name: "with slots: 0 leases are only reported, for the shell to answer",
      given: () => states.active({ slots: 0 }),
      input: { type: "frame", nowMs: at(10), text: leases(lease("a")) },
      effects: [["report", "frame", "node.leases"]],
      check: (after) => expect(after.running.size).toBe(0),
    },
    {
      name: "verdicts are reported one by one",
      given: () => states.active(),
      input: {
        type: "frame",
        nowMs: T0,
        text: nodeFrame("node.verdicts", {
          verdicts: [
            { taskId: "a", accepted: true, reward: "1.5" },
            { taskId: "b", accepted: false, code: "OUTPUT_WRONG", reward: "0" },
          ],
        }),
      },
      effects: [
        ["report", "frame", "node.verdicts"],
        ["report", "verdict"],
        ["report", "verdict"],
      ],
    },
    {
      name: "results that could not be sent go back to the outbox",
      given: () => states.active(),
      input: {
        type: "send-failed",
        nowMs: T0,
        effect: {
          type: "send",
          kind: "device.results",
          text: "",
          results: [
            { lease: lease("a"), result: resultOf("a"), expiresAtMs: at(60_000), bytes: 9 },
          ],
        },
      },
      effects: [],
      check: (after) => expect(after.outbox.map((f) => f.result.taskId)).toEqual(["a"]),
    },
  ]);
});

describe("losing the connection and stopping", () => {
  table([
    {
      name: "a closed socket waits out the backoff; tasks go on running",
      given: () => states.working(),
      input: { type: "closed", nowMs: at(100), code: 1006, reason: "" },
      effects: [
        ["cancel", "heartbeat"],
        ["report", "closed", 1006, 505],
        ["schedule", "reconnect", 505],
      ],
      phase: "offline",
      check: (after) => expect(after).toMatchObject({ granted: 0, attempt: 1 }),
    },
    {
      name: "a result finished offline is kept and goes first after the next registration",
      given: () => {
        const offline = run(
          states.working(),
          { type: "closed", nowMs: at(100), code: 1006, reason: "" },
          { type: "task-finished", nowMs: at(200), result: resultOf("a") },
          { type: "timer", nowMs: at(1100), timer: "reconnect" },
          { type: "node-identity", nowMs: at(1100), text: nodeDocument() },
          { type: "connected", nowMs: at(1100) },
          { type: "frame", nowMs: at(1100), text: nodeFrame("node.challenge", CHALLENGE) },
          {
            type: "challenge-solved",
            nowMs: at(1500),
            challengeId: "ch-1",
            digests: ["44".repeat(32)],
            elapsedMs: 400,
          },
        );
        return offline.state;
      },
      input: {
        type: "frame",
        nowMs: at(1600),
        text: nodeFrame("node.registered", REGISTERED, NODE, at(1600)),
      },
      effects: [
        ["report", "frame", "node.registered"],
        ["report", "registered"],
        ["send", "device.results", { results: [resultOf("a")] }],
        ready(2),
        ["schedule", "heartbeat", 10_000],
      ],
      check: (after) => expect(after).toMatchObject({ sessions: 2, attempt: 0 }),
    },
    {
      name: "without a backoff a closed socket stops the session and its tasks",
      given: () => states.working({ backoff: false }),
      input: { type: "closed", nowMs: at(100), code: 4001, reason: "replaced" },
      effects: [
        ["cancel", "heartbeat"],
        ["report", "closed", 4001, undefined],
        ["abort-task", "a", "DEVICE_STOPPING"],
        ["cancel", "expiry"],
        ["report", "stopped"],
      ],
      phase: "stopped",
    },
    {
      name: "stop aborts the tasks, cancels the timers and closes the socket",
      given: () => states.working(),
      input: { type: "stop", nowMs: at(100) },
      effects: [
        ["abort-task", "a", "DEVICE_STOPPING"],
        ["cancel", "heartbeat"],
        ["cancel", "expiry"],
        ["close", 1000],
        ["report", "stopped"],
      ],
      phase: "stopped",
    },
    {
      name: "after stop nothing more happens",
      given: () => run(states.working(), { type: "stop", nowMs: at(100) }).state,
      input: { type: "closed", nowMs: at(200), code: 1000, reason: "" },
      effects: [],
      check: (after, before) => expect(after).toBe(before),
    },
  ]);
});

describe("options", () => {
  it("are checked at once", () => {
    const refused = (o: Partial<SessionOptions>) =>
      expect(() => createSession(options(o))).toThrow(
        expect.objectContaining({ code: "DEVICE_OPTIONS_INVALID" }),
      );
    refused({ nodeUrl: "ftp://node" });
    refused({ slots: -1 });
    refused({ register: { ...options().register, geohash: "u33" } });
    refused({
      register: { ...options().register, capabilities: { render: { blender: "not a version" } } },
    });
  });

  it("take the capabilities the shell advertises", () => {
    const state = createSession(
      options({
        register: {
          ...options().register,
          taskTypes: ["render"],
          capabilities: { render: { blender: "4.2.0" } },
        },
      }),
    );
    expect(state.config.registerBody.capabilities).toEqual({ render: { blender: "4.2.0" } });
  });

  it("draw the same reconnection delays from the same seed", () => {
    const delays = (jitterSeed: number) => {
      let state = states.resolving({ jitterSeed });
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const failed = step(state, { type: "node-unreachable", nowMs: T0, message: "down" });
        const scheduled = failed.effects.find((e) => e.type === "schedule");
        out.push(scheduled?.type === "schedule" ? scheduled.delayMs : -1);
        state = run(failed.state, { type: "timer", nowMs: T0, timer: "reconnect" }).state;
      }
      return out;
    };
    expect(delays(7)).toEqual(delays(7));
    expect(delays(7)).not.toEqual(delays(8));
    for (const [i, delay] of delays(7).entries()) {
      const cap = Math.min(8000, 1000 * 2 ** i);
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThan(cap);
    }
  });
});
