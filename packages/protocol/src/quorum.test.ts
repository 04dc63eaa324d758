import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  baseQuorum,
  DEFAULT_QUORUM_POLICY,
  decideJobQuorum,
  decideQuorum,
  planReplication,
  QUORUM_INVALID,
  type Replica,
} from "./quorum.ts";
import { seededRng } from "./rng.ts";
import { errorCode } from "./testing.ts";

const HONEST = "a".repeat(64);
const digestOf = (n: number): string => n.toString(16).padStart(64, "0");

const reputation = fc.double({ min: 0, max: 1, noNaN: true });

/** h honest replicas, l liars each with one of `lieKinds` wrong digests, shuffled. */
const scenario = fc
  .record({
    honest: fc.integer({ min: 0, max: 4 }),
    liars: fc.integer({ min: 0, max: 3 }),
    lieKinds: fc.integer({ min: 1, max: 3 }),
  })
  .filter(
    ({ honest, liars }) =>
      honest + liars >= 1 && honest + liars <= DEFAULT_QUORUM_POLICY.maxReplicas,
  )
  .chain(({ honest, liars, lieKinds }) =>
    fc.record({
      replicas: fc
        .tuple(
          fc.array(fc.integer({ min: 1, max: lieKinds }), { minLength: liars, maxLength: liars }),
          fc.array(reputation, { minLength: honest + liars, maxLength: honest + liars }),
        )
        .map(([lies, reputations]) => {
          const replicas: Replica[] = [
            ...Array.from({ length: honest }, (_, i) => ({
              deviceId: `honest-${i}`,
              digest: HONEST,
            })),
            ...lies.map((kind, i) => ({ deviceId: `liar-${i}`, digest: digestOf(kind) })),
          ];
          return {
            replicas,
            reputations: Object.fromEntries(
              replicas.map((r, i) => [r.deviceId, reputations[i] as number]),
            ),
          };
        }),
      spotCheck: fc.boolean(),
    }),
  )
  .chain(({ replicas, spotCheck }) =>
    fc
      .shuffledSubarray(replicas.replicas, { minLength: replicas.replicas.length })
      .map((shuffled) => ({
        replicas: shuffled,
        reputations: replicas.reputations,
        spotCheck,
      })),
  );

describe("decideQuorum", () => {
  it("never lets a minority of liars win, and accepts honest replicas once they reach quorum", () => {
    fc.assert(
      fc.property(scenario, ({ replicas, reputations, spotCheck }) => {
        const honest = replicas.filter((r) => r.digest === HONEST);
        const liars = replicas.filter((r) => r.digest !== HONEST);
        const decision = decideQuorum({ replicas, reputations, spotCheck });
        if (honest.length > liars.length) {
          if (decision.status === "accepted") {
            expect(decision.digest).toBe(HONEST);
            expect(decision.outvoted).toEqual(liars.map((r) => r.deviceId).sort());
          }
          const k = Math.min(...honest.map((r) => baseQuorum(reputations[r.deviceId] as number)));
          const quorum =
            liars.length > 0
              ? Math.max(DEFAULT_QUORUM_POLICY.disputeQuorum, k)
              : Math.max(spotCheck ? 2 : 1, k);
          expect(decision.status === "accepted").toBe(honest.length >= quorum);
        }
      }),
    );
  });

  it("answers a tie between the top digests with a request for more replicas", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(reputation, { minLength: 6, maxLength: 6 }),
        (perSide, reps) => {
          const replicas: Replica[] = [
            ...Array.from({ length: perSide }, (_, i) => ({
              deviceId: `a${i}`,
              digest: digestOf(1),
            })),
            ...Array.from({ length: perSide }, (_, i) => ({
              deviceId: `b${i}`,
              digest: digestOf(2),
            })),
          ];
          const reputations = Object.fromEntries(
            replicas.map((r, i) => [r.deviceId, reps[i] as number]),
          );
          const decision = decideQuorum({ replicas, reputations });
          expect(decision.status).not.toBe("accepted");
          if (decision.status === "need-more")
            expect(decision.additionalReplicas).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it("does not depend on the order replicas arrive in", () => {
    fc.assert(
      fc.property(scenario, fc.integer(), ({ replicas, reputations, spotCheck }, seed) => {
        const rng = seededRng(String(seed));
        const shuffled = [...replicas].sort(() => rng.nextFloat() - 0.5);
        expect(decideQuorum({ replicas: shuffled, reputations, spotCheck })).toEqual(
          decideQuorum({ replicas, reputations, spotCheck }),
        );
      }),
    );
  });

  it("asks for the fewest replicas that, if they agree with the leader, settle it", () => {
    fc.assert(
      fc.property(scenario, ({ replicas, reputations, spotCheck }) => {
        const decision = decideQuorum({ replicas, reputations, spotCheck });
        if (decision.status !== "need-more") return;
        // Counts of the current leader.
        const counts = new Map<string, number>();
        for (const r of replicas) counts.set(r.digest, (counts.get(r.digest) ?? 0) + 1);
        const [leader] = [...counts.entries()].sort(
          ([da, a], [db, b]) => b - a || (da < db ? -1 : 1),
        )[0] as [string, number];
        const withExtra = (n: number) => {
          const extra = Array.from({ length: n }, (_, i) => ({
            deviceId: `extra-${i}`,
            digest: leader,
          }));
          return decideQuorum({
            replicas: [...replicas, ...extra],
            reputations: {
              ...reputations,
              ...Object.fromEntries(extra.map((r) => [r.deviceId, 0])),
            },
            spotCheck,
          });
        };
        const settled = withExtra(decision.additionalReplicas);
        expect(settled).toMatchObject({ status: "accepted", digest: leader });
        expect(withExtra(decision.additionalReplicas - 1).status).not.toBe("accepted");
      }),
    );
  });

  it("lets a trusted device stand alone, but not a spot-checked or a new one", () => {
    const one = [{ deviceId: "d", digest: HONEST }];
    expect(decideQuorum({ replicas: one, reputations: { d: 0.95 } })).toMatchObject({
      status: "accepted",
      quorum: 1,
    });
    expect(decideQuorum({ replicas: one, reputations: { d: 0.95 }, spotCheck: true })).toEqual({
      status: "need-more",
      additionalReplicas: 1,
      quorum: 2,
    });
    expect(decideQuorum({ replicas: one, reputations: { d: 0.6 } })).toMatchObject({
      status: "need-more",
      additionalReplicas: 1,
    });
    expect(decideQuorum({ replicas: one, reputations: { d: 0.1 } })).toMatchObject({
      status: "need-more",
      additionalReplicas: 2,
      quorum: 3,
    });
  });

  it("outvotes a reputable liar and reports it for penalty", () => {
    const replicas = [
      { deviceId: "trusted-liar", digest: digestOf(9) },
      { deviceId: "new-1", digest: HONEST },
      { deviceId: "new-2", digest: HONEST },
    ];
    const reputations = { "trusted-liar": 0.99, "new-1": 0.55, "new-2": 0.6 };
    expect(decideQuorum({ replicas, reputations })).toEqual({
      status: "accepted",
      digest: HONEST,
      agreeing: ["new-1", "new-2"],
      outvoted: ["trusted-liar"],
      quorum: 2,
    });
  });

  it("gives up as inconclusive at maxReplicas", () => {
    const replicas = Array.from({ length: 7 }, (_, i) => ({
      deviceId: `d${i}`,
      digest: digestOf(i + 1),
    }));
    const reputations = Object.fromEntries(replicas.map((r) => [r.deviceId, 0.7]));
    expect(decideQuorum({ replicas, reputations })).toEqual({ status: "inconclusive", quorum: 2 });
  });

  it.each([
    [
      "a duplicate device",
      [
        { deviceId: "d", digest: HONEST },
        { deviceId: "d", digest: HONEST },
      ],
      { d: 1 },
    ],
    ["a malformed digest", [{ deviceId: "d", digest: "abc" }], { d: 1 }],
    ["an uppercase digest", [{ deviceId: "d", digest: HONEST.toUpperCase() }], { d: 1 }],
    ["a missing reputation", [{ deviceId: "d", digest: HONEST }], {}],
    ["a reputation above 1", [{ deviceId: "d", digest: HONEST }], { d: 1.5 }],
    ["an inherited key as device", [{ deviceId: "toString", digest: HONEST }], {}],
    [
      "too many replicas",
      Array.from({ length: 8 }, (_, i) => ({ deviceId: `d${i}`, digest: HONEST })),
      {},
    ],
  ])("refuses %s", (_name, replicas, reputations) => {
    expect(errorCode(() => decideQuorum({ replicas, reputations }))).toBe(QUORUM_INVALID);
  });
});

describe("planReplication", () => {
  it("sends 1 replica to trusted devices, spot-checking about spotCheckProbability of them", () => {
    const rng = seededRng("plan");
    const plans = Array.from({ length: 4000 }, () => planReplication(0.95, rng));
    const checked = plans.filter((p) => p.spotCheck).length / plans.length;
    expect(checked).toBeGreaterThan(0.08);
    expect(checked).toBeLessThan(0.12);
    for (const p of plans) expect(p.replicas).toBe(p.spotCheck ? 2 : 1);
  });

  it("sends 2 or 3 replicas to others, without spot checks", () => {
    const rng = seededRng("plan");
    expect(planReplication(0.7, rng)).toEqual({ replicas: 2, spotCheck: false });
    expect(planReplication(0.2, rng)).toEqual({ replicas: 3, spotCheck: false });
  });

  it("is reproducible from the seed", () => {
    const rngA = seededRng("same");
    const rngB = seededRng("same");
    const xs = Array.from({ length: 50 }, () => planReplication(0.95, rngA));
    const ys = Array.from({ length: 50 }, () => planReplication(0.95, rngB));
    expect(xs).toEqual(ys);
    expect(xs.some((p) => p.spotCheck)).toBe(true);
  });
});

describe("decideJobQuorum", () => {
  it("decides every fragment and lists each outvoted device once", () => {
    const reputations = { a: 0.7, b: 0.7, c: 0.7, liar: 0.95 };
    const job = decideJobQuorum(
      [
        {
          fragmentId: "f0",
          replicas: [
            { deviceId: "a", digest: HONEST },
            { deviceId: "liar", digest: digestOf(1) },
            { deviceId: "b", digest: HONEST },
          ],
        },
        {
          fragmentId: "f1",
          replicas: [
            { deviceId: "liar", digest: digestOf(2) },
            { deviceId: "c", digest: HONEST },
            { deviceId: "a", digest: HONEST },
          ],
        },
        { fragmentId: "f2", replicas: [{ deviceId: "b", digest: HONEST }] },
      ],
      reputations,
    );
    expect(job.penalise).toEqual(["liar"]);
    expect(job.complete).toBe(false);
    expect(job.decisions.get("f2")).toMatchObject({ status: "need-more" });
  });
});
