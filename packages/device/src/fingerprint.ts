import { createHash } from "node:crypto";
import { arch, cpus, platform, totalmem } from "node:os";

/** What the fingerprint commits to: stable facts about the machine, nothing per process. */
export interface HardwareDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryMiB: number;
  readonly platform: string;
  readonly arch: string;
}

export function describeHardware(): HardwareDescription {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? "unknown",
    cores: Math.max(1, processors.length),
    memoryMiB: Math.floor(totalmem() / (1024 * 1024)),
    platform: platform(),
    arch: arch(),
  };
}

/**
 * SHA-256 (hex) of the hardware description, for anti-Sybil accounting (docs/protocol.md §Messages):
 * every agent on one machine reports the same fingerprint, which is the point — the node can see
 * that ten "devices" are one computer. It is a hint, not a proof: a device can lie about it, and
 * the capability benchmark is what bounds the work it is paid for.
 */
export function hardwareFingerprint(description: HardwareDescription = describeHardware()): string {
  // Fixed key order, so the digest does not depend on how the object was built.
  const canonical = JSON.stringify([
    "dpn-hardware/v1",
    description.cpuModel,
    description.cores,
    description.memoryMiB,
    description.platform,
    description.arch,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}
