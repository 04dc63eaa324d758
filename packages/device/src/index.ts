export {
  type BackoffPolicy,
  backoffDelayMs,
  DEFAULT_BACKOFF,
  parseNodeIdentity,
} from "@dpn/wire";
export {
  AGENT_VERSION,
  type DeviceEvent,
  type DeviceEventListener,
  type DeviceHandle,
  type DeviceOptions,
  type DevicePhase,
  type DeviceStats,
  HEARTBEAT_INTERVAL_MS,
  MAX_CHALLENGE_ITERATIONS,
  MAX_FRAME_BYTES,
  MAX_SLOTS,
  SUPPORTED_TASK_TYPES,
  startDevice,
} from "./agent.ts";
export {
  ArtifactCache,
  type ArtifactCacheOptions,
  type ArtifactHandle,
  type ArtifactSource,
  DEFAULT_MAX_CACHE_BYTES,
  httpArtifactSource,
  MAX_ARTIFACT_BYTES,
} from "./artifactCache.ts";
export * from "./errors.ts";
export { iterateSha256, MAX_HASH_ITERATIONS } from "./executors/hash.ts";
export { defaultSlots } from "./executors/pool.ts";
export { describeHardware, type HardwareDescription, hardwareFingerprint } from "./fingerprint.ts";
export type { DeviceLog, LogCallback, LogLevel, PinoLikeLogger } from "./logger.ts";
