import { checkAmount, ONE_DPN } from "./amount.ts";
import { DpnError } from "./errors.ts";
import { TOTAL_SUPPLY_CAP } from "./supply.ts";
import { checkBounds, nonNegative, nonNegativeInteger, oneOf } from "./validate.ts";

/**
 * Governance (docs/protocol.md §Governance). §7.1 splits decisions into three levels with three
 * different voting rules; §7.2 adds Proof-of-Contribution-Time voting power; §7.3 moves through
 * three phases and gives a second L1 weight formula. Every function here is a pure rule over
 * plain data: the node collects identities, stakes, hours and ballots and passes them in.
 */

export const GOVERNANCE_INVALID_VOTER = "GOVERNANCE_INVALID_VOTER";
export const GOVERNANCE_DUPLICATE_VOTER = "GOVERNANCE_DUPLICATE_VOTER";
export const GOVERNANCE_DUPLICATE_APPROVAL = "GOVERNANCE_DUPLICATE_APPROVAL";
export const GOVERNANCE_INVALID_COMMITTEE = "GOVERNANCE_INVALID_COMMITTEE";
export const GOVERNANCE_INVALID_WEIGHT = "GOVERNANCE_INVALID_WEIGHT";
export const GOVERNANCE_WEIGHT_EXCEEDS_ELIGIBLE = "GOVERNANCE_WEIGHT_EXCEEDS_ELIGIBLE";
export const GOVERNANCE_NO_ELIGIBLE_WEIGHT = "GOVERNANCE_NO_ELIGIBLE_WEIGHT";
export const GOVERNANCE_LEVEL_CLOSED = "GOVERNANCE_LEVEL_CLOSED";
export const GOVERNANCE_INVALID_PARAMS = "GOVERNANCE_INVALID_PARAMS";
export const GOVERNANCE_TOO_MANY_VOTERS = "GOVERNANCE_TOO_MANY_VOTERS";

/** §7.3's three stages: 2025Q3–Q4 centralized launch, 2026 community participation, 2027Q4+ DAO. */
export const GOVERNANCE_PHASES = ["centralized", "community", "dao"] as const;
export type GovernancePhase = (typeof GOVERNANCE_PHASES)[number];

/** §7.1: L1 core layer, L2 ecosystem layer, L3 emergency layer. */
export const GOVERNANCE_LEVELS = ["L1", "L2", "L3"] as const;
export type GovernanceLevel = (typeof GOVERNANCE_LEVELS)[number];

export const VOTE_CHOICES = ["for", "against", "abstain"] as const;
export type VoteChoice = (typeof VOTE_CHOICES)[number];

/**
 * Largest electorate one call accepts: twice the whitepaper's 5 million device target (§5.2),
 * so a full network fits while a runaway input is refused before it allocates.
 */
export const MAX_VOTERS = 10_000_000;
/**
 * Largest contribution one identity can claim: 10^12 hours is 5 million devices running for
 * 22 years. Above it the input is a unit error (seconds or milliseconds passed as hours).
 */
export const MAX_CONTRIBUTION_HOURS = 1e12;
/** Largest fleet one identity can claim for PoCT (§7.2); again twice the 5M device target. */
export const MAX_DEVICES_PER_IDENTITY = 10_000_000;
/** Identifiers are opaque strings (account ids, SBT ids); this bounds what a ballot can carry. */
export const MAX_VOTER_ID_LENGTH = 256;

export interface GovernanceParams {
  /** §7.1 L1: coefficient of the hours share before the DAO phase (stake gets 1 − this). */
  readonly l1HoursCoefficient: number;
  /** §7.3: coefficient of the hours share in the DAO phase (stake gets 1 − this). */
  readonly daoHoursCoefficient: number;
  /** L1 (and L2) quorum: the share of the eligible weight that must cast a ballot. */
  readonly l1Quorum: number;
  /** L1 pass rule: for / (for + against) must be strictly greater than this. */
  readonly l1PassThreshold: number;
  readonly l2Quorum: number;
  readonly l2PassThreshold: number;
  /** §7.1 L3: the committee has this many members … */
  readonly emergencyCommitteeSize: number;
  /** … and this many distinct approvals carry a decision ("3/5 multi-signature"). */
  readonly emergencyThreshold: number;
  /** §7.3 stage 2: staking mining starts once this many whole DPN are staked in total. */
  readonly stakingMiningMinStakeDpn: number;
}

/**
 * Defaults. The coefficients, the 3-of-5 committee and the 1M DPN threshold are the
 * whitepaper's. Quorums and pass thresholds are ours (the whitepaper gives none): L1 takes the
 * Cosmos SDK's defaults (33.4% quorum, > 50%); L2's one-person-one-vote turnout is typically far
 * lower, so its quorum is 10%.
 */
export const DEFAULT_GOVERNANCE_PARAMS: GovernanceParams = {
  l1HoursCoefficient: 0.7,
  daoHoursCoefficient: 0.4,
  l1Quorum: 0.334,
  l1PassThreshold: 0.5,
  l2Quorum: 0.1,
  l2PassThreshold: 0.5,
  emergencyCommitteeSize: 5,
  emergencyThreshold: 3,
  stakingMiningMinStakeDpn: 1_000_000,
};

/**
 * Allowed range of each parameter. A pass threshold below 0.5 would let a proposal and its
 * negation both pass; above 0.9 a small minority blocks everything. The committee is at most 15
 * so that every member can be named and contacted in an emergency.
 */
export const GOVERNANCE_PARAM_BOUNDS = {
  l1HoursCoefficient: { min: 0, max: 1 },
  daoHoursCoefficient: { min: 0, max: 1 },
  l1Quorum: { min: 0, max: 1 },
  l1PassThreshold: { min: 0.5, max: 0.9 },
  l2Quorum: { min: 0, max: 1 },
  l2PassThreshold: { min: 0.5, max: 0.9 },
  emergencyCommitteeSize: { min: 1, max: 15 },
  emergencyThreshold: { min: 1, max: 15 },
  stakingMiningMinStakeDpn: { min: 0, max: Number(TOTAL_SUPPLY_CAP / ONE_DPN) },
} as const satisfies {
  readonly [K in keyof GovernanceParams]: {
    readonly min: GovernanceParams[K];
    readonly max: GovernanceParams[K];
  };
};

/**
 * Checks every parameter against GOVERNANCE_PARAM_BOUNDS, and the committee rule: the threshold
 * is a strict majority of the committee (two disjoint groups can never both approve) and no
 * larger than the committee. (docs/protocol.md §Governance: parameters)
 */
export function checkGovernanceParams(params: GovernanceParams): GovernanceParams {
  checkBounds(params, GOVERNANCE_PARAM_BOUNDS, GOVERNANCE_INVALID_PARAMS, "Governance");
  const size = params.emergencyCommitteeSize;
  const threshold = params.emergencyThreshold;
  if (
    !Number.isSafeInteger(size) ||
    !Number.isSafeInteger(threshold) ||
    !Number.isSafeInteger(params.stakingMiningMinStakeDpn)
  ) {
    throw new DpnError(
      GOVERNANCE_INVALID_PARAMS,
      "The committee size, its threshold and the staking-mining minimum must be whole numbers.",
      { hint: "Round the parameter to a whole number of members or DPN." },
    );
  }
  if (threshold > size || 2 * threshold <= size) {
    throw new DpnError(
      GOVERNANCE_INVALID_PARAMS,
      `An emergency threshold of ${threshold} of ${size} is not a strict majority of the committee.`,
      { hint: "Choose a threshold t with size/2 < t <= size, such as 3 of 5." },
    );
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Phases (§7.3)

export interface GovernancePhaseRules {
  readonly phase: GovernancePhase;
  /** Coefficient of the hours share in L1 weights; the stake share gets 1 − this. */
  readonly l1HoursCoefficient: number;
  readonly l1StakeCoefficient: number;
  /** In the centralized phase L1 votes are advisory: the core team executes. */
  readonly l1Binding: boolean;
  /** §7.3 stage 2 "Open L2 ecosystem layer governance voting". */
  readonly l2VotingOpen: boolean;
  /** §7.3 stage 2 "launch DPN staking mining". */
  readonly stakingMiningOpen: boolean;
  /**
   * How many emergency-committee seats the core team may hold. §7.3 stage 1: "the core team
   * holds 3/5 of the emergency governance power", i.e. the threshold, so it can act alone. Later
   * phases: threshold − 1 (our rule), so no single party can act alone.
   */
  readonly maxCoreTeamEmergencySeats: number;
  /** Who carries out a passed decision; §7.3 stage 3 "Transfer all governance rights to smart contracts". */
  readonly executedBy: "core-team" | "committee" | "contracts";
}

/** The rules in force in a phase. (docs/protocol.md §Governance: phases) */
export function governancePhaseRules(
  phase: GovernancePhase,
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): GovernancePhaseRules {
  oneOf("phase", phase, GOVERNANCE_PHASES);
  checkGovernanceParams(params);
  // §7.1's 0.7/0.3 until the DAO phase, §7.3's 0.6 stake / 0.4 hours in it: the two formulas
  // conflict, and §7.3 states its formula under the DAO stage, so we read it as that stage's rule.
  const hours = phase === "dao" ? params.daoHoursCoefficient : params.l1HoursCoefficient;
  return {
    phase,
    l1HoursCoefficient: hours,
    l1StakeCoefficient: 1 - hours,
    l1Binding: phase !== "centralized",
    l2VotingOpen: phase !== "centralized",
    stakingMiningOpen: phase !== "centralized",
    maxCoreTeamEmergencySeats:
      phase === "centralized" ? params.emergencyThreshold : params.emergencyThreshold - 1,
    executedBy:
      phase === "centralized" ? "core-team" : phase === "community" ? "committee" : "contracts",
  };
}

/**
 * Whether staking mining pays in this phase. §7.3 stage 2: "launch DPN staking mining (staking
 * amount ≥ 1 million DPN)". We read the amount as the total staked in the pool (a launch
 * condition), not a per-staker minimum: 1M DPN is 1% of the supply, and a per-staker floor that
 * high would shut out the community that stage 2 opens to. (docs/protocol.md §Governance: phases)
 */
export function stakingMiningActive(
  phase: GovernancePhase,
  totalStakedUnits: bigint,
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): boolean {
  const rules = governancePhaseRules(phase, params);
  checkAmount("totalStakedUnits", totalStakedUnits);
  return (
    rules.stakingMiningOpen && totalStakedUnits >= BigInt(params.stakingMiningMinStakeDpn) * ONE_DPN
  );
}

// ---------------------------------------------------------------------------------------------
// L1 core layer (§7.1, §7.3)

export interface L1Voter {
  readonly voterId: string;
  /** Verified computing contribution, in hours (PoCT hours, §7.2). */
  readonly contributionHours: number;
  /** DPN staked, in base units. */
  readonly stakeUnits: bigint;
}

export interface L1Weight {
  readonly voterId: string;
  /** The voter's share of the L1 vote, in [0, 1]; weights of all voters sum to 1 or are all 0. */
  readonly weight: number;
  /** contributionHours / Σ contributionHours (0 when nobody has hours). */
  readonly hoursShare: number;
  /** stakeUnits / Σ stakeUnits (0 when nobody has stake). */
  readonly stakeShare: number;
}

const TWO_POW_53 = 2 ** 53;
const TWO_POW_53_N = 2n ** 53n;

/**
 * L1 voting weights. §7.1 "Computing power contribution duration × 0.7 + DPN staking amount ×
 * 0.3" adds hours to tokens; we add shares instead: weight = a·(h_i/ΣH) + (1 − a)·(s_i/ΣS) with
 * a = 0.7 before the DAO phase and 0.4 in it (§7.3). If nobody has hours the stake share carries
 * the whole weight, and vice versa; if nobody has either, every weight is 0 (and a tally of
 * such an electorate is refused). (docs/protocol.md §Governance: L1 weights)
 *
 * Precision: the stake share is floor(2^53·s_i/ΣS)/2^53, exact integer arithmetic, so it is
 * off by less than 2^-53 and exactly monotone in s_i. The hours share is 1/(1 + O_i/h_i), where
 * O_i is the sum of the other voters' hours; every step of it is monotone under IEEE rounding.
 * The weights sum to 1 within a few n·2^-53.
 */
export function l1VotingWeights(
  voters: readonly L1Voter[],
  phase: GovernancePhase,
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): L1Weight[] {
  const rules = governancePhaseRules(phase, params);
  checkElectorateSize(voters.length);
  const seen = new Set<string>();
  for (const voter of voters) {
    checkVoterId(voter.voterId);
    if (seen.has(voter.voterId)) duplicateVoter(voter.voterId);
    seen.add(voter.voterId);
    checkHours(voter.contributionHours);
    checkAmount("stakeUnits", voter.stakeUnits);
  }

  const n = voters.length;
  // Hours of everyone before voter i and after voter i, so each voter's "others" sum does not
  // depend on the voter's own hours (monotonicity would otherwise hang on rounding).
  const before = new Float64Array(n + 1);
  const after = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) before[i + 1] = (before[i] ?? 0) + hoursOf(voters, i);
  for (let i = n - 1; i >= 0; i--) after[i] = (after[i + 1] ?? 0) + hoursOf(voters, i);
  const totalHours = before[n] ?? 0;
  let totalStake = 0n;
  for (const voter of voters) totalStake += voter.stakeUnits;

  const hoursCoefficient = totalStake === 0n ? 1 : totalHours === 0 ? 0 : rules.l1HoursCoefficient;
  const stakeCoefficient = totalHours === 0 ? 1 : totalStake === 0n ? 0 : rules.l1StakeCoefficient;

  return voters.map((voter, i) => {
    const hours = voter.contributionHours;
    const others = (before[i] ?? 0) + (after[i + 1] ?? 0);
    const hoursShare = hours === 0 ? 0 : 1 / (1 + others / hours);
    const stakeShare =
      totalStake === 0n ? 0 : Number((voter.stakeUnits * TWO_POW_53_N) / totalStake) / TWO_POW_53;
    const weight =
      totalHours === 0 && totalStake === 0n
        ? 0
        : Math.min(1, hoursCoefficient * hoursShare + stakeCoefficient * stakeShare);
    return { voterId: voter.voterId, weight, hoursShare, stakeShare };
  });
}

function hoursOf(voters: readonly L1Voter[], i: number): number {
  return voters[i]?.contributionHours ?? 0;
}

// ---------------------------------------------------------------------------------------------
// L2 ecosystem layer (§7.1)

export interface L2Registration {
  /** The person's soul-bound-token identity: one per person, whatever the number of devices. */
  readonly personId: string;
  readonly deviceId: string;
  /** Whether the SBT identity behind this registration has been verified. */
  readonly sbtVerified: boolean;
}

export interface L2Weight {
  readonly personId: string;
  /** 1 for a verified person, 0 otherwise. */
  readonly weight: 0 | 1;
  readonly devices: number;
}

/**
 * L2 electorate: §7.1 "One-person-one-vote (SBT identity verification)". Registrations are
 * grouped by SBT identity, so a person with several devices has one vote; the vote counts (weight
 * 1) when any of the person's registrations carries a verified SBT, since the SBT belongs to the
 * person, not the device. Order: first appearance. (docs/protocol.md §Governance: L2 weights)
 */
export function l2VotingWeights(registrations: readonly L2Registration[]): L2Weight[] {
  checkElectorateSize(registrations.length);
  const people = new Map<string, { verified: boolean; devices: Set<string> }>();
  for (const registration of registrations) {
    checkVoterId(registration.personId);
    checkVoterId(registration.deviceId);
    if (typeof registration.sbtVerified !== "boolean") {
      throw new DpnError(GOVERNANCE_INVALID_VOTER, "sbtVerified must be true or false.", {
        details: { personId: registration.personId },
      });
    }
    const person = people.get(registration.personId) ?? { verified: false, devices: new Set() };
    person.verified ||= registration.sbtVerified;
    person.devices.add(registration.deviceId);
    people.set(registration.personId, person);
  }
  return [...people].map(([personId, person]) => ({
    personId,
    weight: person.verified ? 1 : 0,
    devices: person.devices.size,
  }));
}

// ---------------------------------------------------------------------------------------------
// L3 emergency layer (§7.1, §7.3)

export interface EmergencyDecision {
  readonly approved: boolean;
  readonly approvals: number;
  readonly threshold: number;
  readonly committeeSize: number;
  /** Approvals still needed (0 once approved). */
  readonly missing: number;
}

/**
 * §7.1 L3 "3/5 multi-signature committee": decides whether a set of approvals carries an
 * emergency action. The committee must have exactly `emergencyCommitteeSize` distinct members;
 * an approval from a non-member or a repeated approval is an error, not ignored, because either
 * means the caller's signature collection is broken. (docs/protocol.md §Governance: L3 multisig)
 */
export function emergencyDecision(
  committee: readonly string[],
  approvals: readonly string[],
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): EmergencyDecision {
  checkGovernanceParams(params);
  const members = checkCommittee(committee, params);
  if (approvals.length > members.size) {
    throw new DpnError(
      GOVERNANCE_DUPLICATE_APPROVAL,
      `${approvals.length} approvals for a committee of ${members.size}.`,
      { hint: "Each committee member approves at most once." },
    );
  }
  const approved = new Set<string>();
  for (const approver of approvals) {
    checkVoterId(approver);
    if (!members.has(approver)) {
      throw new DpnError(
        GOVERNANCE_INVALID_VOTER,
        `"${approver}" is not on the emergency committee.`,
        {
          hint: "Only the committee's members can approve an emergency action.",
          details: { voterId: approver },
        },
      );
    }
    if (approved.has(approver)) {
      throw new DpnError(GOVERNANCE_DUPLICATE_APPROVAL, `"${approver}" approved twice.`, {
        hint: "Count each member's approval once; drop the repeated signature.",
        details: { voterId: approver },
      });
    }
    approved.add(approver);
  }
  const threshold = params.emergencyThreshold;
  return {
    approved: approved.size >= threshold,
    approvals: approved.size,
    threshold,
    committeeSize: members.size,
    missing: Math.max(0, threshold - approved.size),
  };
}

/**
 * Checks that a committee is well formed and that the core team holds no more seats than the
 * phase allows (§7.3: all the threshold in the centralized phase, one fewer afterwards).
 * (docs/protocol.md §Governance: L3 multisig)
 */
export function checkEmergencyCommittee(
  committee: readonly string[],
  coreTeam: readonly string[],
  phase: GovernancePhase,
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): void {
  const rules = governancePhaseRules(phase, params);
  const members = checkCommittee(committee, params);
  const teamSeats = new Set(coreTeam.filter((id) => members.has(id))).size;
  if (teamSeats > rules.maxCoreTeamEmergencySeats) {
    throw new DpnError(
      GOVERNANCE_INVALID_COMMITTEE,
      `The core team holds ${teamSeats} committee seats; the ${phase} phase allows ${rules.maxCoreTeamEmergencySeats}.`,
      {
        hint: "Replace core-team members with elected members until no single party can act alone.",
      },
    );
  }
}

function checkCommittee(committee: readonly string[], params: GovernanceParams): Set<string> {
  const members = new Set<string>();
  for (const member of committee) {
    checkVoterId(member);
    members.add(member);
  }
  if (members.size !== committee.length || members.size !== params.emergencyCommitteeSize) {
    throw new DpnError(
      GOVERNANCE_INVALID_COMMITTEE,
      `The emergency committee must have ${params.emergencyCommitteeSize} distinct members; got ${committee.length} entries, ${members.size} distinct.`,
      { hint: "Pass the committee's member ids, each once." },
    );
  }
  return members;
}

// ---------------------------------------------------------------------------------------------
// PoCT (§7.2)

/**
 * Proof-of-Contribution-Time voting power, §7.2: √(contribution hours) × ln(devices + 1).
 * The whitepaper writes "log" without a base; the base only multiplies every voter's power by
 * the same constant (log_b x = ln x / ln b), so shares and outcomes are the same for any base,
 * and we take the natural log. Zero hours or zero devices give zero power. √ rewards splitting
 * one identity's hours across several; see the spec for when ln(devices + 1) offsets that.
 * (docs/protocol.md §Governance: PoCT)
 */
export function poctVotingPower(contributionHours: number, devices: number): number {
  checkHours(contributionHours);
  nonNegativeInteger("devices", devices);
  if (devices > MAX_DEVICES_PER_IDENTITY) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `devices = ${devices} exceeds ${MAX_DEVICES_PER_IDENTITY}.`,
      {
        hint: "Count the identity's distinct, fingerprinted devices.",
      },
    );
  }
  return Math.sqrt(contributionHours) * Math.log1p(devices);
}

// ---------------------------------------------------------------------------------------------
// Tally

export interface Vote {
  readonly voterId: string;
  readonly choice: VoteChoice;
  /** The voter's weight at the snapshot: an L1 share, an L2 0/1, or 1 for an L3 member. */
  readonly weight: number;
}

export type Proposal =
  | {
      readonly id: string;
      readonly level: "L1" | "L2";
      readonly phase: GovernancePhase;
      /** The weight of the whole electorate at the snapshot: 1 for L1 shares, verified people for L2. */
      readonly eligibleWeight: number;
    }
  | {
      readonly id: string;
      readonly level: "L3";
      readonly phase: GovernancePhase;
      readonly committee: readonly string[];
    };

export interface TallyResult {
  readonly proposalId: string;
  readonly level: GovernanceLevel;
  readonly phase: GovernancePhase;
  readonly forWeight: number;
  readonly againstWeight: number;
  readonly abstainWeight: number;
  readonly eligibleWeight: number;
  /** (for + against + abstain) / eligible. */
  readonly turnout: number;
  readonly quorumReached: boolean;
  /** for / (for + against); 0 when nobody voted for or against. */
  readonly approval: number;
  readonly passed: boolean;
  /** False for L1 in the centralized phase: the result advises the core team. */
  readonly binding: boolean;
}

/**
 * Float slack of the tally. L1 shares carry rounding errors of a few n·2^-53, so an exact tie
 * (0.3 for, 0.3 against) can come out as 0.5000000000000001 approval. Comparisons with the
 * quorum and the pass threshold therefore treat margins below 1e-9 as ties (a tie fails), and
 * ballot weights may exceed the eligible weight by that much relative slack.
 */
export const TALLY_TOLERANCE = 1e-9;

/**
 * Counts a proposal's ballots. L1 and L2: the proposal passes when turnout (abstentions count)
 * reaches the level's quorum and for / (for + against) is strictly above its pass threshold, so
 * a tie fails (margins below TALLY_TOLERANCE count as ties). L3: it passes when at least `emergencyThreshold` distinct committee members vote
 * for, each with weight 1. L2 is closed in the centralized phase (§7.3 opens it in stage 2).
 * (docs/protocol.md §Governance: tally)
 */
export function tallyVotes(
  proposal: Proposal,
  votes: readonly Vote[],
  params: GovernanceParams = DEFAULT_GOVERNANCE_PARAMS,
): TallyResult {
  oneOf("level", proposal.level, GOVERNANCE_LEVELS);
  const rules = governancePhaseRules(proposal.phase, params);
  checkElectorateSize(votes.length);
  const seen = new Set<string>();
  const sums: Record<VoteChoice, number> = { for: 0, against: 0, abstain: 0 };
  for (const vote of votes) {
    checkVoterId(vote.voterId);
    oneOf("choice", vote.choice, VOTE_CHOICES);
    if (seen.has(vote.voterId)) duplicateVoter(vote.voterId);
    seen.add(vote.voterId);
    checkVoteWeight(vote, proposal.level);
    sums[vote.choice] += vote.weight;
  }
  const cast = sums.for + sums.against + sums.abstain;
  const decided = sums.for + sums.against;
  const approval = decided === 0 ? 0 : sums.for / decided;
  const base = {
    proposalId: proposal.id,
    level: proposal.level,
    phase: proposal.phase,
    forWeight: sums.for,
    againstWeight: sums.against,
    abstainWeight: sums.abstain,
    approval,
  };

  if (proposal.level === "L3") {
    const decision = emergencyDecision(
      proposal.committee,
      votes.filter((vote) => vote.choice === "for").map((vote) => vote.voterId),
      params,
    );
    const members = new Set(proposal.committee);
    for (const vote of votes) {
      if (!members.has(vote.voterId)) {
        throw new DpnError(
          GOVERNANCE_INVALID_VOTER,
          `"${vote.voterId}" is not on the emergency committee.`,
          {
            hint: "Only the committee's members vote on L3 proposals.",
            details: { voterId: vote.voterId },
          },
        );
      }
    }
    return {
      ...base,
      eligibleWeight: decision.committeeSize,
      turnout: cast / decision.committeeSize,
      quorumReached: decision.approved,
      passed: decision.approved,
      binding: true,
    };
  }

  if (proposal.level === "L2" && !rules.l2VotingOpen) {
    throw new DpnError(GOVERNANCE_LEVEL_CLOSED, "L2 voting is not open in the centralized phase.", {
      hint: "§7.3 opens L2 ecosystem voting in the community phase; submit it then.",
      details: { proposalId: proposal.id },
    });
  }
  const eligible = nonNegative("eligibleWeight", proposal.eligibleWeight);
  if (eligible === 0) {
    throw new DpnError(
      GOVERNANCE_NO_ELIGIBLE_WEIGHT,
      "Nobody in the electorate has voting weight.",
      {
        hint: "L1 needs someone with hours or stake; L2 needs a verified SBT identity.",
        details: { proposalId: proposal.id },
      },
    );
  }
  if (cast > eligible * (1 + TALLY_TOLERANCE)) {
    throw new DpnError(
      GOVERNANCE_WEIGHT_EXCEEDS_ELIGIBLE,
      `Ballots carry weight ${cast}, more than the electorate's ${eligible}.`,
      { hint: "Take ballot weights and eligibleWeight from the same snapshot." },
    );
  }
  const quorum = proposal.level === "L1" ? params.l1Quorum : params.l2Quorum;
  const threshold = proposal.level === "L1" ? params.l1PassThreshold : params.l2PassThreshold;
  const turnout = Math.min(1, cast / eligible);
  const quorumReached = turnout >= quorum - TALLY_TOLERANCE;
  return {
    ...base,
    eligibleWeight: eligible,
    turnout,
    quorumReached,
    passed: quorumReached && approval > threshold + TALLY_TOLERANCE,
    binding: proposal.level === "L2" || rules.l1Binding,
  };
}

// ---------------------------------------------------------------------------------------------
// Input checks

function checkVoterId(id: string): void {
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_VOTER_ID_LENGTH) {
    throw new DpnError(
      GOVERNANCE_INVALID_VOTER,
      `A voter id must be a string of 1 to ${MAX_VOTER_ID_LENGTH} characters, got ${JSON.stringify(id)}.`,
      { hint: "Use the account, device or SBT id the node registered." },
    );
  }
}

function duplicateVoter(id: string): never {
  throw new DpnError(GOVERNANCE_DUPLICATE_VOTER, `"${id}" appears twice.`, {
    hint: "Each voter appears once per snapshot and casts one ballot per proposal.",
    details: { voterId: id },
  });
}

function checkHours(hours: number): void {
  nonNegative("contributionHours", hours);
  if (hours > MAX_CONTRIBUTION_HOURS) {
    throw new DpnError(
      "PROTOCOL_INVALID_INPUT",
      `contributionHours = ${hours} exceeds ${MAX_CONTRIBUTION_HOURS}.`,
      {
        hint: "Contribution is measured in hours; check that seconds were not passed.",
        details: { field: "contributionHours", value: String(hours) },
      },
    );
  }
}

function checkElectorateSize(count: number): void {
  if (count > MAX_VOTERS) {
    throw new DpnError(
      GOVERNANCE_TOO_MANY_VOTERS,
      `${count} entries exceed MAX_VOTERS (${MAX_VOTERS}).`,
      {
        hint: "Tally in one call per proposal; an electorate larger than this is an input error.",
      },
    );
  }
}

function checkVoteWeight(vote: Vote, level: GovernanceLevel): void {
  const weight = vote.weight;
  const valid =
    typeof weight === "number" &&
    Number.isFinite(weight) &&
    (level === "L1"
      ? weight >= 0 && weight <= 1
      : level === "L2"
        ? weight === 0 || weight === 1
        : weight === 1);
  if (!valid) {
    const expected =
      level === "L1"
        ? "a share in [0, 1]"
        : level === "L2"
          ? "0 or 1 (one person, one vote)"
          : "1 (one member, one signature)";
    throw new DpnError(
      GOVERNANCE_INVALID_WEIGHT,
      `${level} ballot of "${vote.voterId}" has weight ${String(weight)}; expected ${expected}.`,
      { hint: "Take weights from l1VotingWeights / l2VotingWeights at the proposal's snapshot." },
    );
  }
}
