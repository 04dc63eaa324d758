import { describe, expect, it } from "vitest";
import { assignmentSeed, GENESIS_EPOCH_ROOT } from "./assignmentSeed.ts";
import { errorCode } from "./testing.ts";

/**
 * Fixed vectors, computed outside this module (Node's crypto over the bytes the definition
 * names), so an auditor's implementation in another language has something to match.
 */
const DIGEST = "11".repeat(32);
const ROOT = `0x${"22".repeat(32)}`;

describe("the assignment seed (§3.4, ADR 0018)", () => {
  it("is SHA-256 of the domain tag, the submission digest and the epoch root", () => {
    expect(assignmentSeed({ submissionDigest: DIGEST, epochRoot: ROOT })).toBe(
      "475f1bd110969c5f4499a2f6cb47bb04b44e04602721a2078f4e49d83bf96b01",
    );
  });

  it("uses the documented genesis root while no epoch is sealed", () => {
    expect(GENESIS_EPOCH_ROOT).toBe(
      "0xca2c510402f88a28a4d1aac9a04736b867a086ab865e2ac17a92e3d1eb0e8504",
    );
    expect(assignmentSeed({ submissionDigest: DIGEST, epochRoot: GENESIS_EPOCH_ROOT })).toBe(
      "799e6a21c212ad09053ff36b72bdcbdf5e5913028868665fe0c4ea879ea977d5",
    );
  });

  it("changes with either input", () => {
    const seed = assignmentSeed({ submissionDigest: DIGEST, epochRoot: ROOT });
    const otherDigest = `12${DIGEST.slice(2)}`;
    const otherRoot = `${ROOT.slice(0, -1)}3`;
    expect(assignmentSeed({ submissionDigest: otherDigest, epochRoot: ROOT })).not.toBe(seed);
    expect(assignmentSeed({ submissionDigest: DIGEST, epochRoot: otherRoot })).not.toBe(seed);
  });

  it("refuses inputs that are not a digest and a root", () => {
    for (const inputs of [
      { submissionDigest: "AB".repeat(32), epochRoot: ROOT },
      { submissionDigest: DIGEST.slice(2), epochRoot: ROOT },
      { submissionDigest: DIGEST, epochRoot: ROOT.slice(2) },
      { submissionDigest: DIGEST, epochRoot: `${ROOT}00` },
    ]) {
      expect(errorCode(() => assignmentSeed(inputs))).toBe("PROTOCOL_INVALID_INPUT");
    }
  });
});
