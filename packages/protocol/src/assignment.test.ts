import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignFragments, auditAssignment, type Candidate } from "./assignment.ts";
import { errorCode } from "./testing.ts";

const devices: Candidate[] = [
  { deviceId: "berlin-1", geohash: "u33d", capabilityCuPerSec: 8, reputation: 1 },
  { deviceId: "berlin-2", geohash: "u33e", capabilityCuPerSec: 8, reputation: 1 },
  { deviceId: "tokyo-1", geohash: "xn76", capabilityCuPerSec: 4, reputation: 0.9 },
  { deviceId: "nyc-1", geohash: "dr5r", capabilityCuPerSec: 16, reputation: 0.8 },
  { deviceId: "sydney-1", geohash: "r3gx", capabilityCuPerSec: 2, reputation: 1 },
];

describe("fragment assignment (§3.4)", () => {
  it("spreads fragments over distinct regions before reusing one", () => {
    const result = assignFragments({ seed: "job-42", fragments: 4, candidates: devices });
    const regions = result.map((a) =>
      devices.find((d) => d.deviceId === a.deviceId)?.geohash.slice(0, 3),
    );
    expect(new Set(regions).size).toBe(4);
    expect(result.every((a) => !a.regionReused)).toBe(true);
    const sixth = assignFragments({ seed: "job-42", fragments: 6, candidates: devices });
    // Five devices in four regions at precision 3 (both Berlin cells are u33): the fifth and
    // sixth fragments must reuse a region.
    expect(sixth.map((a) => a.regionReused)).toEqual([false, false, false, false, true, true]);
  });

  it("never gives a device two fragments while another holds none", () => {
    const result = assignFragments({ seed: "s", fragments: 5, candidates: devices });
    expect(new Set(result.map((a) => a.deviceId)).size).toBe(5);
    const seven = assignFragments({ seed: "s", fragments: 7, candidates: devices });
    const counts = new Map<string, number>();
    for (const a of seven) counts.set(a.deviceId, (counts.get(a.deviceId) ?? 0) + 1);
    expect(Math.max(...counts.values()) - Math.min(...counts.values())).toBeLessThanOrEqual(1);
  });

  it("is reproducible from its seed, whatever the candidate order, and auditable", () => {
    const input = { seed: "job-7/attempt-1", fragments: 3, candidates: devices };
    const first = assignFragments(input);
    expect(assignFragments({ ...input, candidates: [...devices].reverse() })).toEqual(first);
    expect(auditAssignment(input, first)).toBe(true);
    const tampered = first.map((a, i) => (i === 0 ? { ...a, deviceId: "someone-else" } : a));
    expect(auditAssignment(input, tampered)).toBe(false);
  });

  it("favours capable, reputable devices in proportion to their weight", () => {
    const pair: Candidate[] = [
      { deviceId: "strong", geohash: "u33d", capabilityCuPerSec: 9, reputation: 1 },
      { deviceId: "weak", geohash: "xn76", capabilityCuPerSec: 1, reputation: 1 },
    ];
    let strong = 0;
    for (let i = 0; i < 2000; i++) {
      if (
        assignFragments({ seed: `w${i}`, fragments: 1, candidates: pair })[0]?.deviceId === "strong"
      )
        strong++;
    }
    expect(strong / 2000).toBeGreaterThan(0.85);
    expect(strong / 2000).toBeLessThan(0.95);
  });

  it("never picks a zero-weight device while a weighted one is available", () => {
    const candidates: Candidate[] = [
      { deviceId: "a", geohash: "u33d", capabilityCuPerSec: 5, reputation: 0 },
      { deviceId: "b", geohash: "u33d", capabilityCuPerSec: 5, reputation: 1 },
    ];
    for (let i = 0; i < 200; i++) {
      expect(assignFragments({ seed: `z${i}`, fragments: 1, candidates })[0]?.deviceId).toBe("b");
    }
  });

  it("rejects an empty network, bad geohashes and duplicate ids", () => {
    expect(errorCode(() => assignFragments({ seed: "s", fragments: 1, candidates: [] }))).toBe(
      "SCHEDULER_NO_ELIGIBLE_DEVICES",
    );
    const bad = [{ ...devices[0], geohash: "aaaa" } as Candidate];
    expect(errorCode(() => assignFragments({ seed: "s", fragments: 1, candidates: bad }))).toBe(
      "PROTOCOL_INVALID_GEOHASH",
    );
    const dup = [devices[0], devices[0]] as Candidate[];
    expect(errorCode(() => assignFragments({ seed: "s", fragments: 1, candidates: dup }))).toBe(
      "PROTOCOL_INVALID_INPUT",
    );
  });

  it("always assigns every fragment to a listed device, balanced within one", () => {
    const candidate = fc.record({
      deviceId: fc.string({ minLength: 1, maxLength: 8 }),
      geohash: fc.stringMatching(/^[0-9b-hjkmnp-z]{4}$/),
      capabilityCuPerSec: fc.double({ min: 0, max: 100, noNaN: true }),
      reputation: fc.double({ min: 0, max: 1, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(candidate, { minLength: 1, maxLength: 30, selector: (c) => c.deviceId }),
        fc.integer({ min: 0, max: 40 }),
        fc.string({ minLength: 1 }),
        (candidates, fragments, seed) => {
          const result = assignFragments({ seed, fragments, candidates });
          expect(result).toHaveLength(fragments);
          const ids = new Set(candidates.map((c) => c.deviceId));
          const counts = new Map<string, number>();
          for (const a of result) {
            expect(ids.has(a.deviceId)).toBe(true);
            counts.set(a.deviceId, (counts.get(a.deviceId) ?? 0) + 1);
          }
          const max = Math.max(0, ...counts.values());
          expect(max).toBeLessThanOrEqual(Math.ceil(fragments / candidates.length));
        },
      ),
    );
  });
});
