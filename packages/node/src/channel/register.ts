import { classifyDevice, DpnError, type ProtocolParams } from "@dpn/protocol";
import type { DeviceChallengeAnswer, DeviceRegister, PublicIdentity } from "@dpn/wire";
import type { Bank } from "../bank.ts";
import { BENCHMARK_WORK } from "../devices/benchmark.ts";
import { type DeviceSession, sessionToken } from "../scheduler/session.ts";
import * as devices from "../store/devices.ts";
import type { NodeStore } from "../store/open.ts";
import type { VerifyPool } from "../verify/pool.ts";
import { type Challenge, measuredCapability } from "./challenge.ts";

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
  const [digest] = await context.verifyPool.run<string[]>(BENCHMARK_WORK, {
    items: [{ seed: challenge.seed, iterations: challenge.iterations }],
  });
  if (digest !== answer.digest) {
    throw new DpnError("DEVICE_CHALLENGE_WRONG", "The benchmark's digest is wrong.", {
      hint: "Iterate SHA-256 from the seed's bytes exactly `iterations` times.",
    });
  }
  const cuPerSec = measuredCapability(challenge, answer.elapsedMs, answeredAtMs);
  const classification = classifyDevice(register.deviceClass, cuPerSec, context.params.devices);
  const previous = await devices.device(context.store.db, identity.id);
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
    reputation: previous?.reputation ?? (await context.bank.deviceReputation(identity.id)),
    run_start_ms: previous?.run_start_ms ?? answeredAtMs,
    last_active_ms: previous?.last_active_ms ?? answeredAtMs,
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
