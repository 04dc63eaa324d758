import { createHash } from "node:crypto";
import { isDpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { DEVICE_TASK_INVALID } from "../errors.ts";
import { iterateSha256 } from "./hash.ts";

/** The rule spelled out with the streaming API, independently of the executor's one-shot path. */
function reference(seedHex: string, iterations: number): string {
  let digest = Buffer.from(seedHex, "hex");
  for (let i = 0; i < iterations; i++) digest = createHash("sha256").update(digest).digest();
  return digest.toString("hex");
}

describe("iterateSha256", () => {
  it("hashes the seed's 32 bytes, not its hex text", () => {
    // SHA-256 of 32 zero bytes, a published value.
    expect(iterateSha256("0".repeat(64), 1)).toBe(
      "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
    );
  });

  it("matches node:crypto's streaming SHA-256 iterated the same number of times", () => {
    for (const [seed, iterations] of [
      ["ab".repeat(32), 1],
      ["0123456789abcdef".repeat(4), 2],
      ["f".repeat(64), 1000],
      ["5a".repeat(32), 12_345],
    ] as const) {
      expect(iterateSha256(seed, iterations)).toBe(reference(seed, iterations));
    }
  });

  it("refuses malformed seeds and iteration counts with DEVICE_TASK_INVALID", () => {
    for (const [seed, iterations] of [
      ["AB".repeat(32), 1],
      ["ab".repeat(31), 1],
      ["ab".repeat(32), 0],
      ["ab".repeat(32), 1.5],
      ["ab".repeat(32), 100_000_001],
    ] as const) {
      let caught: unknown;
      try {
        iterateSha256(seed, iterations);
      } catch (error) {
        caught = error;
      }
      expect(isDpnError(caught, DEVICE_TASK_INVALID)).toBe(true);
    }
  });
});
