import { describe, expect, it } from "vitest";
import { describeHardware, hardwareFingerprint } from "./fingerprint.ts";

describe("hardwareFingerprint", () => {
  it("is the same for every agent on one machine", () => {
    expect(hardwareFingerprint()).toBe(hardwareFingerprint(describeHardware()));
    expect(hardwareFingerprint()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("changes with any described fact", () => {
    const base = describeHardware();
    const digests = new Set([
      hardwareFingerprint(base),
      hardwareFingerprint({ ...base, cores: base.cores + 1 }),
      hardwareFingerprint({ ...base, memoryMiB: base.memoryMiB + 1 }),
      hardwareFingerprint({ ...base, cpuModel: `${base.cpuModel}x` }),
      hardwareFingerprint({ ...base, arch: "riscv64" }),
    ]);
    expect(digests.size).toBe(5);
  });
});
