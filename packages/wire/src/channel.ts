import { DEVICE_CLASSES } from "@dpn/protocol";
import { z } from "zod";
import { MAX_CHALLENGE_LANES, MAX_MEMORY_PROBE_MIB } from "./challenge.ts";
import {
  AccountId,
  Base64,
  DpnAmount,
  Geohash4,
  MAX_JOB_ITEMS,
  MAX_LEASES_PER_FRAME,
  MAX_RESULTS_PER_FRAME,
  Sha256Hex,
  TaskId,
} from "./schemas.ts";
import { Capabilities, type ItemOf, TASK_WIRES, type TaskTypeName } from "./tasks/index.ts";

/**
 * The device channel (docs/protocol.md §Messages): one WebSocket per device, every frame a
 * signed envelope whose body is one of these messages.
 */

export const DeviceRegister = z.strictObject({
  ed25519PublicKey: Base64,
  mldsa44PublicKey: Base64,
  /** The account paid for this device's work. */
  owner: AccountId,
  deviceClass: z.enum(DEVICE_CLASSES),
  /** SHA-256 of the device's hardware description (CPU model, cores, memory, platform). */
  fingerprint: Sha256Hex,
  geohash: Geohash4,
  cores: z.number().int().min(1).max(1024),
  memoryMiB: z
    .number()
    .int()
    .min(16)
    .max(16 * 1024 * 1024),
  agentVersion: z.string().min(1).max(32),
  /** Task kinds this agent can run. */
  taskTypes: z.array(z.enum(Object.keys(TASK_WIRES) as [TaskTypeName, ...TaskTypeName[]])).min(1),
  /**
   * Data this device holds, as "dataset:partition" (e.g. "flights-regions/v1:pacific"). The data
   * never leaves the device; work on a partition goes only to devices that hold it.
   */
  datasets: z.optional(z.array(z.string().regex(/^[a-z0-9/._-]{1,64}:[a-z0-9._-]{1,64}$/)).max(64)),
  /** What the device has for kinds that need more than their name (kind → capability). */
  capabilities: z.optional(Capabilities),
  /** Reserved for zero-knowledge location proofs (a later issue). */
  locationProof: z.optional(z.unknown()),
});
export type DeviceRegister = z.infer<typeof DeviceRegister>;

/** The capability challenge (challenge.ts): `lanes` parallel chains and a memory probe. */
export const NodeChallenge = z.strictObject({
  challengeId: z.string().min(1).max(64),
  seed: Sha256Hex,
  /** SHA-256 iterations of each lane. */
  iterations: z.number().int().positive().max(100_000_000),
  lanes: z.number().int().min(1).max(MAX_CHALLENGE_LANES),
  /** The scrypt probe's size (a power of two), or 0 when the class is never heavy. */
  memoryMiB: z.number().int().min(0).max(MAX_MEMORY_PROBE_MIB),
});
export const DeviceChallengeAnswer = z.strictObject({
  challengeId: z.string().min(1).max(64),
  /** Every lane's final digest, in lane order. */
  digests: z.array(Sha256Hex).min(1).max(MAX_CHALLENGE_LANES),
  /** The memory probe's output, when one was asked. */
  memoryDigest: z.optional(Sha256Hex),
  elapsedMs: z.number().nonnegative().max(600_000),
});
export type DeviceChallengeAnswer = z.infer<typeof DeviceChallengeAnswer>;
export const NodeRegistered = z.strictObject({
  deviceId: AccountId,
  deviceClass: z.enum(DEVICE_CLASSES),
  layer: z.enum(["light", "heavy"]),
  longTail: z.boolean(),
  benchmarkCuPerSec: z.number(),
  reason: z.string(),
});

/**
 * The node changed the device's class after registration: its delivered work did not fit the
 * envelope its measurement promised (docs/protocol.md §Devices, sustained rate).
 */
export const NodeReclassified = z.strictObject({
  deviceClass: z.enum(DEVICE_CLASSES),
  layer: z.enum(["light", "heavy"]),
  reason: z.string(),
});

export const DeviceReady = z.strictObject({
  slots: z.number().int().min(0).max(MAX_LEASES_PER_FRAME),
});

const LeaseFields = {
  taskId: TaskId,
  jobId: TaskId,
  leaseExpiresAtMs: z.number(),
  /** Content hashes of the artifacts the task needs (role → sha256), fetched from /v1/artifacts. */
  artifacts: z.record(z.string(), Sha256Hex),
};

function leaseOf<T extends TaskTypeName>(type: T) {
  return z.strictObject({
    ...LeaseFields,
    type: z.literal(type),
    items: z.array(TASK_WIRES[type].item).min(1).max(MAX_JOB_ITEMS),
  });
}

/** One leased task: its kind, its items (each checked against the kind's item schema). */
export const Lease = z.discriminatedUnion("type", [
  leaseOf("hash"),
  leaseOf("zk-groth16"),
  leaseOf("sql-analytics"),
  leaseOf("fl-train"),
  leaseOf("fl-features"),
  leaseOf("render"),
]);
export type Lease = z.infer<typeof Lease>;
/** A lease of kind T, its items typed by the kind's item schema. */
export type LeaseOf<T extends TaskTypeName> = Omit<Lease, "type" | "items"> & {
  readonly type: T;
  readonly items: ItemOf<T>[];
};
export const NodeLeases = z.strictObject({ leases: z.array(Lease).max(MAX_LEASES_PER_FRAME) });

export const TaskResult = z.strictObject({
  taskId: TaskId,
  /** One output per item, in item order, checked by the node against the kind's output schema. */
  outputs: z.array(z.unknown()).min(1).max(MAX_JOB_ITEMS),
  elapsedMs: z.number().nonnegative(),
});
export type TaskResult = z.infer<typeof TaskResult>;
export const DeviceResults = z.strictObject({
  results: z
    .array(TaskResult)
    .min(1)
    .max(MAX_RESULTS_PER_FRAME)
    .superRefine((results, context) => {
      // One result per task and frame: a repeated id could otherwise count one task twice.
      const seen = new Set<string>();
      for (const [index, result] of results.entries()) {
        if (seen.has(result.taskId)) {
          context.addIssue({
            code: "custom",
            path: [index, "taskId"],
            message: `task ${result.taskId} appears more than once in this frame`,
          });
          return;
        }
        seen.add(result.taskId);
      }
    }),
});

export const Verdict = z.strictObject({
  taskId: z.string(),
  accepted: z.boolean(),
  code: z.optional(z.string()),
  reason: z.optional(z.string()),
  /** DPN minted to the device's owner for this task. */
  reward: DpnAmount,
});
export type Verdict = z.infer<typeof Verdict>;
export const NodeVerdicts = z.strictObject({ verdicts: z.array(Verdict) });

export const DeviceHeartbeat = z.strictObject({
  activeTaskIds: z.array(z.string()).max(MAX_LEASES_PER_FRAME),
});
export const NodeError = z.strictObject({ code: z.string(), message: z.string() });

/** Envelope kind → body schema, for both directions of the device channel. */
export const DEVICE_MESSAGES = {
  "device.register": DeviceRegister,
  "device.challenge-answer": DeviceChallengeAnswer,
  "device.ready": DeviceReady,
  "device.results": DeviceResults,
  "device.heartbeat": DeviceHeartbeat,
} as const;
export const NODE_MESSAGES = {
  "node.challenge": NodeChallenge,
  "node.registered": NodeRegistered,
  "node.reclassified": NodeReclassified,
  "node.leases": NodeLeases,
  "node.verdicts": NodeVerdicts,
  "node.error": NodeError,
} as const;

export type DeviceMessageKind = keyof typeof DEVICE_MESSAGES;
export type NodeMessageKind = keyof typeof NODE_MESSAGES;
export type DeviceMessageBody<K extends DeviceMessageKind> = z.infer<(typeof DEVICE_MESSAGES)[K]>;
export type NodeMessageBody<K extends NodeMessageKind> = z.infer<(typeof NODE_MESSAGES)[K]>;
