import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONE_DPN } from "./amount.ts";
import {
  checkEmergencyCommittee,
  checkGovernanceParams,
  DEFAULT_GOVERNANCE_PARAMS,
  emergencyDecision,
  GOVERNANCE_PARAM_BOUNDS,
  type GovernancePhase,
  governancePhaseRules,
  type L1Voter,
  l1VotingWeights,
  l2VotingWeights,
  poctVotingPower,
  stakingMiningActive,
  tallyVotes,
  type Vote,
} from "./governance.ts";
import { errorCode } from "./testing.ts";

function expectCode(run: () => unknown, code: string): void {
  expect(errorCode(run)).toBe(code);
}

const PHASES: readonly GovernancePhase[] = ["centralized", "community", "dao"];

// The worked example of docs/protocol.md §Governance: L1 weights.
const VOTERS: readonly L1Voter[] = [
  { voterId: "A", contributionHours: 600, stakeUnits: 100_000n * ONE_DPN },
  { voterId: "B", contributionHours: 300, stakeUnits: 300_000n * ONE_DPN },
  { voterId: "C", contributionHours: 100, stakeUnits: 600_000n * ONE_DPN },
];

function weightsOf(voters: readonly L1Voter[], phase: GovernancePhase): number[] {
  return l1VotingWeights(voters, phase).map((entry) => entry.weight);
}

function ballots(weights: readonly number[]): Vote[] {
  const choices = ["for", "against", "abstain"] as const;
  return weights.map((weight, i) => ({
    voterId: VOTERS[i]?.voterId ?? `v${i}`,
    choice: choices[i] ?? "abstain",
    weight,
  }));
}

describe("L1 voting weights", () => {
  it("gives A 0.45, B 0.30, C 0.25 before the DAO phase (§7.1: 0.7 hours, 0.3 stake)", () => {
    for (const phase of ["centralized", "community"] as const) {
      const [a, b, c] = weightsOf(VOTERS, phase);
      expect(a).toBeCloseTo(0.45, 12);
      expect(b).toBeCloseTo(0.3, 12);
      expect(c).toBeCloseTo(0.25, 12);
    }
  });

  it("gives A 0.30, B 0.30, C 0.40 in the DAO phase (§7.3: 0.6 stake, 0.4 hours)", () => {
    const [a, b, c] = weightsOf(VOTERS, "dao");
    expect(a).toBeCloseTo(0.3, 12);
    expect(b).toBeCloseTo(0.3, 12);
    expect(c).toBeCloseTo(0.4, 12);
  });

  it("reports each voter's hours share and stake share", () => {
    const [a] = l1VotingWeights(VOTERS, "community");
    expect(a?.hoursShare).toBeCloseTo(0.6, 12);
    expect(a?.stakeShare).toBeCloseTo(0.1, 12);
  });

  it("uses stake shares alone when nobody has contribution hours", () => {
    const voters = [
      { voterId: "x", contributionHours: 0, stakeUnits: 1n },
      { voterId: "y", contributionHours: 0, stakeUnits: 3n },
    ];
    expect(weightsOf(voters, "community")).toEqual([0.25, 0.75]);
  });

  it("uses hours shares alone when nobody has stake", () => {
    const voters = [
      { voterId: "x", contributionHours: 30, stakeUnits: 0n },
      { voterId: "y", contributionHours: 10, stakeUnits: 0n },
    ];
    expect(weightsOf(voters, "dao")).toEqual([0.75, 0.25]);
  });

  it("gives everyone weight 0 when nobody has hours or stake, and nothing to nobody", () => {
    const voters = [
      { voterId: "x", contributionHours: 0, stakeUnits: 0n },
      { voterId: "y", contributionHours: 0, stakeUnits: 0n },
    ];
    expect(weightsOf(voters, "community")).toEqual([0, 0]);
    expect(l1VotingWeights([], "community")).toEqual([]);
  });

  it("gives the whole vote to a single voter with anything to count", () => {
    expect(weightsOf([{ voterId: "x", contributionHours: 5, stakeUnits: 0n }], "dao")).toEqual([1]);
  });

  it("rejects duplicate ids, empty ids, bad hours and bad stake with codes", () => {
    expectCode(
      () => l1VotingWeights([VOTERS[0], VOTERS[0]] as L1Voter[], "dao"),
      "GOVERNANCE_DUPLICATE_VOTER",
    );
    expectCode(
      () => l1VotingWeights([{ voterId: "", contributionHours: 1, stakeUnits: 0n }], "dao"),
      "GOVERNANCE_INVALID_VOTER",
    );
    for (const hours of [-1, Number.NaN, Number.POSITIVE_INFINITY, 2e12]) {
      expectCode(
        () => l1VotingWeights([{ voterId: "x", contributionHours: hours, stakeUnits: 0n }], "dao"),
        "PROTOCOL_INVALID_INPUT",
      );
    }
    expectCode(
      () => l1VotingWeights([{ voterId: "x", contributionHours: 1, stakeUnits: -1n }], "dao"),
      "PROTOCOL_INVALID_INPUT",
    );
    expectCode(
      () => l1VotingWeights(VOTERS, "anarchy" as GovernancePhase),
      "PROTOCOL_INVALID_INPUT",
    );
  });
});

const voterArb = fc.record({
  voterId: fc.string({ minLength: 1, maxLength: 6 }),
  contributionHours: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e6, noNaN: true })),
  stakeUnits: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 27n })),
});
const electorateArb = fc.uniqueArray(voterArb, {
  selector: (voter) => voter.voterId,
  minLength: 1,
  maxLength: 25,
});
const phaseArb = fc.constantFrom(...PHASES);

describe("L1 voting weight properties", () => {
  it("weights lie in [0, 1] and sum to 1 within 1e-12 whenever anyone has weight", () => {
    fc.assert(
      fc.property(electorateArb, phaseArb, (voters, phase) => {
        const weights = weightsOf(voters, phase);
        for (const weight of weights) expect(weight >= 0 && weight <= 1).toBe(true);
        const anyone = voters.some((v) => v.contributionHours > 0 || v.stakeUnits > 0n);
        const sum = weights.reduce((total, weight) => total + weight, 0);
        if (anyone) expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-12);
        else expect(sum).toBe(0);
      }),
    );
  });

  it("a voter's weight never decreases when their own hours grow", () => {
    fc.assert(
      fc.property(
        electorateArb,
        phaseArb,
        fc.nat(),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (voters, phase, pick, extra) => {
          const i = pick % voters.length;
          const more = voters.map((v, j) =>
            j === i ? { ...v, contributionHours: v.contributionHours + extra } : v,
          );
          expect(weightsOf(more, phase)[i] ?? -1).toBeGreaterThanOrEqual(
            weightsOf(voters, phase)[i] ?? 2,
          );
        },
      ),
    );
  });

  it("a voter's weight never decreases when their own stake grows", () => {
    fc.assert(
      fc.property(
        electorateArb,
        phaseArb,
        fc.nat(),
        fc.bigInt({ min: 0n, max: 10n ** 27n }),
        (voters, phase, pick, extra) => {
          const i = pick % voters.length;
          const more = voters.map((v, j) =>
            j === i ? { ...v, stakeUnits: v.stakeUnits + extra } : v,
          );
          expect(weightsOf(more, phase)[i] ?? -1).toBeGreaterThanOrEqual(
            weightsOf(voters, phase)[i] ?? 2,
          );
        },
      ),
    );
  });
});

describe("governance phases (§7.3)", () => {
  it("opens L2 voting and staking mining only after the centralized launch", () => {
    expect(governancePhaseRules("centralized")).toMatchObject({
      l2VotingOpen: false,
      stakingMiningOpen: false,
      l1Binding: false,
      maxCoreTeamEmergencySeats: 3,
      executedBy: "core-team",
    });
    expect(governancePhaseRules("community")).toMatchObject({
      l2VotingOpen: true,
      stakingMiningOpen: true,
      l1Binding: true,
      maxCoreTeamEmergencySeats: 2,
      executedBy: "committee",
    });
    expect(governancePhaseRules("dao")).toMatchObject({
      l1HoursCoefficient: 0.4,
      executedBy: "contracts",
    });
    expect(governancePhaseRules("dao").l1StakeCoefficient).toBeCloseTo(0.6, 15);
  });

  it("starts staking mining once 1,000,000 DPN is staked, never in the centralized phase", () => {
    expect(stakingMiningActive("community", 999_999n * ONE_DPN)).toBe(false);
    expect(stakingMiningActive("community", 1_000_000n * ONE_DPN)).toBe(true);
    expect(stakingMiningActive("dao", 2_000_000n * ONE_DPN)).toBe(true);
    expect(stakingMiningActive("centralized", 2_000_000n * ONE_DPN)).toBe(false);
    expectCode(() => stakingMiningActive("dao", -1n), "PROTOCOL_INVALID_INPUT");
  });

  it("lets the core team hold 3 of 5 emergency seats at launch and at most 2 afterwards", () => {
    const committee = ["t1", "t2", "t3", "e1", "e2"];
    const team = ["t1", "t2", "t3"];
    expect(() => checkEmergencyCommittee(committee, team, "centralized")).not.toThrow();
    expectCode(
      () => checkEmergencyCommittee(committee, team, "community"),
      "GOVERNANCE_INVALID_COMMITTEE",
    );
    expect(() => checkEmergencyCommittee(committee, ["t1", "t2"], "dao")).not.toThrow();
  });
});

describe("L2 one person, one vote (§7.1)", () => {
  const registrations = [
    { personId: "alice", deviceId: "phone", sbtVerified: true },
    { personId: "alice", deviceId: "laptop", sbtVerified: true },
    { personId: "alice", deviceId: "car", sbtVerified: true },
    { personId: "bob", deviceId: "phone", sbtVerified: true },
    { personId: "carol", deviceId: "phone", sbtVerified: false },
    { personId: "carol", deviceId: "tv", sbtVerified: false },
  ];

  it("gives alice with three devices one vote, bob one, unverified carol none", () => {
    expect(l2VotingWeights(registrations)).toEqual([
      { personId: "alice", weight: 1, devices: 3 },
      { personId: "bob", weight: 1, devices: 1 },
      { personId: "carol", weight: 0, devices: 2 },
    ]);
  });

  it("rejects empty identities", () => {
    expectCode(
      () => l2VotingWeights([{ personId: "", deviceId: "d", sbtVerified: true }]),
      "GOVERNANCE_INVALID_VOTER",
    );
  });
});

describe("L3 emergency multisig (§7.1)", () => {
  const committee = ["m1", "m2", "m3", "m4", "m5"];

  it("approves with 3 distinct members of 5 and says how many are missing otherwise", () => {
    expect(emergencyDecision(committee, ["m1", "m3", "m4"])).toEqual({
      approved: true,
      approvals: 3,
      threshold: 3,
      committeeSize: 5,
      missing: 0,
    });
    expect(emergencyDecision(committee, ["m1", "m3"])).toMatchObject({
      approved: false,
      missing: 1,
    });
    expect(emergencyDecision(committee, [])).toMatchObject({ approved: false, missing: 3 });
  });

  it("rejects repeated approvals, outsiders and malformed committees", () => {
    expectCode(
      () => emergencyDecision(committee, ["m1", "m1", "m3"]),
      "GOVERNANCE_DUPLICATE_APPROVAL",
    );
    expectCode(() => emergencyDecision(committee, ["m1", "mallory"]), "GOVERNANCE_INVALID_VOTER");
    expectCode(
      () => emergencyDecision(["m1", "m2", "m3", "m4"], ["m1"]),
      "GOVERNANCE_INVALID_COMMITTEE",
    );
    expectCode(
      () => emergencyDecision(["m1", "m1", "m3", "m4", "m5"], ["m1"]),
      "GOVERNANCE_INVALID_COMMITTEE",
    );
  });

  it("approves exactly when the distinct approvals reach the threshold", () => {
    fc.assert(
      fc.property(fc.subarray(committee), (approvals) => {
        expect(emergencyDecision(committee, approvals).approved).toBe(approvals.length >= 3);
      }),
    );
  });
});

describe("PoCT voting power (§7.2)", () => {
  const split = (hours: number, devices: number, identities: number): number =>
    identities * poctVotingPower(hours / identities, devices / identities);

  it("gives 100 hours on 10 devices √100 × ln 11 = 23.979", () => {
    expect(poctVotingPower(100, 10)).toBeCloseTo(23.979, 3);
  });

  it("pays a 2-way split 5.7% more and a 10-way split 8.6% less (h = 100, 10 devices)", () => {
    expect(split(100, 10, 2)).toBeCloseTo(25.339, 3);
    expect(split(100, 10, 5)).toBeCloseTo(24.566, 3);
    expect(split(100, 10, 10)).toBeCloseTo(21.919, 3);
    expect(split(100, 10, 2) / poctVotingPower(100, 10)).toBeCloseTo(1.057, 3);
    expect(split(100, 10, 10) / poctVotingPower(100, 10)).toBeCloseTo(0.914, 3);
  });

  it("pays √k more when each of k identities can claim all 10 devices", () => {
    expect(2 * poctVotingPower(50, 10)).toBeCloseTo(33.911, 3);
    expect(10 * poctVotingPower(10, 10)).toBeCloseTo(75.828, 3);
  });

  it("pays a fleet of 100 one-device identities 50% more than one identity (1,000 hours)", () => {
    expect(poctVotingPower(1000, 100)).toBeCloseTo(145.943, 3);
    expect(split(1000, 100, 100)).toBeCloseTo(219.192, 3);
  });

  it("makes one-device splitting profitable from 19 devices on", () => {
    const ratio = (d: number): number => (Math.sqrt(d) * Math.LN2) / Math.log(d + 1);
    expect(ratio(18)).toBeLessThan(1);
    expect(ratio(19)).toBeGreaterThan(1);
    expect(split(19 * 7, 19, 19) / poctVotingPower(19 * 7, 19)).toBeCloseTo(ratio(19), 12);
  });

  it("is zero with zero hours or zero devices, and rejects fractional devices", () => {
    expect(poctVotingPower(0, 10)).toBe(0);
    expect(poctVotingPower(100, 0)).toBe(0);
    expectCode(() => poctVotingPower(100, 1.5), "PROTOCOL_INVALID_INPUT");
    expectCode(() => poctVotingPower(-1, 1), "PROTOCOL_INVALID_INPUT");
  });

  it("never decreases as hours or devices grow", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.nat({ max: 1_000_000 }),
        fc.nat({ max: 1_000_000 }),
        (hours, extraHours, devices, extraDevices) => {
          const base = poctVotingPower(hours, devices);
          expect(Number.isFinite(base) && base >= 0).toBe(true);
          expect(poctVotingPower(hours + extraHours, devices)).toBeGreaterThanOrEqual(base);
          expect(poctVotingPower(hours, devices + extraDevices)).toBeGreaterThanOrEqual(base);
        },
      ),
    );
  });
});

describe("tallying a proposal", () => {
  it("passes the community-phase example: A for, B against, C abstains → 60% approval", () => {
    const result = tallyVotes(
      { id: "p1", level: "L1", phase: "community", eligibleWeight: 1 },
      ballots(weightsOf(VOTERS, "community")),
    );
    expect(result.turnout).toBeCloseTo(1, 12);
    expect(result.approval).toBeCloseTo(0.6, 12);
    expect(result).toMatchObject({ quorumReached: true, passed: true, binding: true });
  });

  it("fails the same ballots in the DAO phase: 0.30 for, 0.30 against is a tie", () => {
    const result = tallyVotes(
      { id: "p1", level: "L1", phase: "dao", eligibleWeight: 1 },
      ballots(weightsOf(VOTERS, "dao")),
    );
    expect(result.approval).toBeCloseTo(0.5, 12);
    expect(result.passed).toBe(false);
  });

  it("fails without quorum: B alone (30%) is below 33.4%", () => {
    const b = weightsOf(VOTERS, "community")[1] ?? 0;
    const result = tallyVotes({ id: "p2", level: "L1", phase: "community", eligibleWeight: 1 }, [
      { voterId: "B", choice: "for", weight: b },
    ]);
    expect(result).toMatchObject({ quorumReached: false, passed: false });
  });

  it("marks L1 results advisory in the centralized phase", () => {
    const result = tallyVotes(
      { id: "p1", level: "L1", phase: "centralized", eligibleWeight: 1 },
      ballots(weightsOf(VOTERS, "centralized")),
    );
    expect(result).toMatchObject({ passed: true, binding: false });
  });

  it("counts L2 ballots one per person and refuses L2 in the centralized phase", () => {
    const votes: Vote[] = [
      { voterId: "alice", choice: "for", weight: 1 },
      { voterId: "bob", choice: "abstain", weight: 1 },
      { voterId: "carol", choice: "against", weight: 0 },
    ];
    const result = tallyVotes(
      { id: "e1", level: "L2", phase: "community", eligibleWeight: 2 },
      votes,
    );
    expect(result).toMatchObject({ turnout: 1, approval: 1, passed: true, binding: true });
    expectCode(
      () => tallyVotes({ id: "e1", level: "L2", phase: "centralized", eligibleWeight: 2 }, votes),
      "GOVERNANCE_LEVEL_CLOSED",
    );
    expectCode(
      () =>
        tallyVotes({ id: "e1", level: "L2", phase: "community", eligibleWeight: 2 }, [
          { voterId: "alice", choice: "for", weight: 0.5 },
        ]),
      "GOVERNANCE_INVALID_WEIGHT",
    );
  });

  it("decides L3 proposals by the 3-of-5 rule", () => {
    const committee = ["m1", "m2", "m3", "m4", "m5"];
    const vote = (voterId: string, choice: Vote["choice"]): Vote => ({
      voterId,
      choice,
      weight: 1,
    });
    const proposal = { id: "halt", level: "L3", phase: "dao", committee } as const;
    expect(
      tallyVotes(proposal, [vote("m1", "for"), vote("m2", "for"), vote("m5", "for")]).passed,
    ).toBe(true);
    expect(
      tallyVotes(proposal, [vote("m1", "for"), vote("m2", "for"), vote("m5", "against")]).passed,
    ).toBe(false);
    expectCode(() => tallyVotes(proposal, [vote("x", "against")]), "GOVERNANCE_INVALID_VOTER");
  });

  it("rejects double ballots, weight beyond the electorate and an empty electorate", () => {
    const proposal = { id: "p", level: "L1", phase: "dao", eligibleWeight: 1 } as const;
    expectCode(
      () =>
        tallyVotes(proposal, [
          { voterId: "A", choice: "for", weight: 0.1 },
          { voterId: "A", choice: "against", weight: 0.1 },
        ]),
      "GOVERNANCE_DUPLICATE_VOTER",
    );
    expectCode(
      () =>
        tallyVotes(proposal, [
          { voterId: "A", choice: "for", weight: 0.7 },
          { voterId: "B", choice: "for", weight: 0.7 },
        ]),
      "GOVERNANCE_WEIGHT_EXCEEDS_ELIGIBLE",
    );
    expectCode(
      () => tallyVotes({ ...proposal, eligibleWeight: 0 }, []),
      "GOVERNANCE_NO_ELIGIBLE_WEIGHT",
    );
  });

  it("never passes without quorum or without a strict majority of for over against", () => {
    fc.assert(
      fc.property(
        electorateArb,
        phaseArb,
        fc.array(fc.constantFrom("for", "against", "abstain")),
        (voters, phase, choices) => {
          const weights = l1VotingWeights(voters, phase);
          const eligible = weights.reduce((sum, w) => sum + w.weight, 0);
          fc.pre(eligible > 0);
          const votes = weights.map((w, i) => ({
            voterId: w.voterId,
            choice: choices[i] ?? "abstain",
            weight: w.weight,
          }));
          const result = tallyVotes(
            { id: "p", level: "L1", phase, eligibleWeight: eligible },
            votes,
          );
          if (result.passed) {
            expect(result.quorumReached).toBe(true);
            expect(result.forWeight).toBeGreaterThan(result.againstWeight);
          }
        },
      ),
    );
  });
});

describe("governance parameters", () => {
  it("accepts the defaults and rejects values outside the bounds", () => {
    expect(checkGovernanceParams(DEFAULT_GOVERNANCE_PARAMS)).toBe(DEFAULT_GOVERNANCE_PARAMS);
    expect(GOVERNANCE_PARAM_BOUNDS.l1PassThreshold.min).toBe(0.5);
    expectCode(
      () => checkGovernanceParams({ ...DEFAULT_GOVERNANCE_PARAMS, l1PassThreshold: 0.4 }),
      "GOVERNANCE_INVALID_PARAMS",
    );
    expectCode(
      () => checkGovernanceParams({ ...DEFAULT_GOVERNANCE_PARAMS, l1HoursCoefficient: Number.NaN }),
      "GOVERNANCE_INVALID_PARAMS",
    );
  });

  it("rejects a fractional staking-mining minimum", () => {
    expectCode(
      () => checkGovernanceParams({ ...DEFAULT_GOVERNANCE_PARAMS, stakingMiningMinStakeDpn: 0.5 }),
      "GOVERNANCE_INVALID_PARAMS",
    );
  });

  it("rejects an emergency threshold that is not a strict majority of the committee", () => {
    expectCode(
      () => checkGovernanceParams({ ...DEFAULT_GOVERNANCE_PARAMS, emergencyThreshold: 2 }),
      "GOVERNANCE_INVALID_PARAMS",
    );
    expectCode(
      () => checkGovernanceParams({ ...DEFAULT_GOVERNANCE_PARAMS, emergencyThreshold: 6 }),
      "GOVERNANCE_INVALID_PARAMS",
    );
  });
});
