import { classifyDevice, DpnError, MS_PER_DAY, type ProtocolParams } from "@dpn/protocol";
import {
  type DeviceChallengeAnswer,
  type DeviceRegister,
  laneSeed,
  type PublicIdentity,
} from "@dpn/wire";
import type { Bank } from "../bank.ts";
import { BENCHMARK_WORK } from "../devices/benchmark.ts";
import { MEMORY_PROBE_WORK } from "../devices/memoryProbe.ts";
import { type DeviceSession, sessionToken } from "../scheduler/session.ts";
import * as devices from "../store/devices.ts";
import type { NodeStore } from "../store/open.ts";
import type { VerifyPool } from "../verify/pool.ts";
import { type Challenge, measuredCapability, spotLanes } from "./challenge.ts";

/**
 * Registration (docs/protocol.md §Devices): the hardware fingerprint's slot is taken before the
 * challenge (fingerprints.ts); the answer's digest is recomputed and the time the node saw bounds the measured
 * capability, which classifies the device. The device's record (reputation, run, earnings)
 * survives re-registration.
 */
export interface RegistrationContext {
  readonly bank: Bank;
  readonly store: NodeStore;
  readonly verifyPool: VerifyPool;
  readonly params: ProtocolParams;
}

export interface Registered {
  readonly session: DeviceSession;
  readonly reply: {
    readonly deviceId: string;
    readonly deviceClass: DeviceSession["deviceClass"];
    readonly layer: DeviceSession["layer"];
    readonly longTail: boolean;
    readonly benchmarkCuPerSec: number;
    readonly reason: string;
  };
}

export async function completeRegistration(
  context: RegistrationContext,
  identity: PublicIdentity,
  register: DeviceRegister,
  challenge: Challenge,
  answer: DeviceChallengeAnswer,
  answeredAtMs: number,
  transport: Pick<DeviceSession, "send" | "close">,
): Promise<Registered> {
  if (answer.challengeId !== challenge.challengeId) {
    throw new DpnError("DEVICE_CHALLENGE_WRONG", "The answer is for another challenge.", {
      hint: "Answer the challenge you were sent.",
    });
  }
  if (answer.digests.length !== challenge.lanes) {
    throw new DpnError(
      "DEVICE_CHALLENGE_WRONG",
      `The answer has ${answer.digests.length} lane digests; the challenge asked ${challenge.lanes}.`,
      { hint: "Answer every lane of the challenge, in lane order." },
    );
  }
  if (challenge.memoryMiB > 0 !== (answer.memoryDigest !== undefined)) {
    throw new DpnError(
      "DEVICE_CHALLENGE_WRONG",
      "The memory probe's answer is missing or unasked.",
      {
        hint: "Answer the memory probe exactly when the challenge asks for one (memoryMiB > 0).",
      },
    );
  }
  // Picked only now, so the device could not know which lanes it had to compute honestly.
  const spot = spotLanes(challenge.lanes);
  const [recomputed, memoryDigest] = await Promise.all([
    context.verifyPool.run<string[]>(BENCHMARK_WORK, {
      items: spot.map((lane) => ({
        seed: laneSeed(challenge.seed, lane),
        iterations: challenge.iterations,
      })),
    }),
    challenge.memoryMiB === 0
      ? undefined
      : context.verifyPool.run<string>(MEMORY_PROBE_WORK, {
          seed: challenge.seed,
          memoryMiB: challenge.memoryMiB,
        }),
  ]);
  const wrongLane = spot.find((lane, k) => answer.digests[lane] !== recomputed[k]);
  if (wrongLane !== undefined) {
    throw new DpnError("DEVICE_CHALLENGE_WRONG", `The benchmark's lane ${wrongLane} is wrong.`, {
      hint: "Iterate SHA-256 `iterations` times from each lane's seed (laneSeed in @dpn/wire).",
    });
  }
  if (memoryDigest !== answer.memoryDigest) {
    throw new DpnError("DEVICE_CHALLENGE_WRONG", "The memory probe's digest is wrong.", {
      hint: "Compute scrypt of the seed with the challenge's memory (memoryProbe in @dpn/wire).",
    });
  }
  const cuPerSec = measuredCapability(challenge, answer.elapsedMs, answeredAtMs);
  const measurement = {
    cuPerSec,
    lanes: challenge.lanes,
    memoryMiB: challenge.memoryMiB,
  };
  const previous = await devices.device(context.store.db, identity.id);
  const history = await devices.fingerprintHistory(
    context.store.db,
    register.fingerprint,
    identity.id,
    answeredAtMs - context.params.decay.restResetDays * MS_PER_DAY,
  );
  const measured = classifyDevice(register.deviceClass, measurement, context.params.devices);
  // A machine once found to be a rig stays one under every key it registers (ADR 0017).
  const rigBefore = previous?.rig_reason ?? history.rigReason;
  const classification =
    rigBefore != null && measured.deviceClass !== "rig"
      ? {
          ...measured,
          deviceClass: "rig" as const,
          layer: "heavy" as const,
          longTail: false,
          reason: `this machine was classified as a rig before: ${rigBefore}`,
        }
      : measured;
  // Only a finding against the claim sticks: a device that says it is a rig is not caught lying,
  // and the other agents of its machine are measured on their own.
  const caught = classification.deviceClass === "rig" && register.deviceClass !== "rig";
  const rigReason = rigBefore ?? (caught ? classification.reason : null);
  await devices.upsertDevice(context.store.db, {
    id: identity.id,
    owner: register.owner,
    device_class: classification.deviceClass,
    declared_class: register.deviceClass,
    layer: classification.layer,
    long_tail: classification.longTail ? 1 : 0,
    geohash: register.geohash,
    fingerprint: register.fingerprint,
    cu_per_sec: cuPerSec,
    class_reason: classification.reason,
    rig_reason: rigReason,
    lanes: challenge.lanes,
    memory_mib: challenge.memoryMiB,
    // A new key on known hardware starts from the machine's record, not afresh.
    reputation:
      previous?.reputation ??
      Math.min(
        await context.bank.deviceReputation(identity.id),
        history.reputation ?? Number.POSITIVE_INFINITY,
      ),
    run_start_ms: previous?.run_start_ms ?? history.runStartMs ?? answeredAtMs,
    last_active_ms: previous?.last_active_ms ?? history.lastActiveMs ?? answeredAtMs,
    registered_ms: previous?.registered_ms ?? answeredAtMs,
    ed25519: identity.ed25519PublicKey,
    mldsa44: identity.mldsa44PublicKey,
  });
  const row = await devices.device(context.store.db, identity.id);
  const session: DeviceSession = {
    token: sessionToken(),
    deviceId: identity.id,
    owner: register.owner,
    deviceClass: classification.deviceClass,
    layer: classification.layer,
    longTail: classification.longTail,
    geohash: register.geohash,
    cuPerSec,
    taskTypes: register.taskTypes,
    datasets: register.datasets ?? [],
    capabilities: register.capabilities ?? {},
    reputation: row?.reputation ?? 0.5,
    runStartMs: row?.run_start_ms ?? answeredAtMs,
    lastActiveMs: row?.last_active_ms ?? answeredAtMs,
    credit: 0,
    standby: false,
    queue: [],
    leased: new Map(),
    send: transport.send,
    close: transport.close,
  };
  return {
    session,
    reply: {
      deviceId: identity.id,
      deviceClass: classification.deviceClass,
      layer: classification.layer,
      longTail: classification.longTail,
      benchmarkCuPerSec: cuPerSec,
      reason: classification.reason,
    },
  };
}
