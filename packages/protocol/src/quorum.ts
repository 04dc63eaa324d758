import { DpnError } from "./errors.ts";
import type { Rng } from "./rng.ts";

/** A replica report or a quorum policy out of range. */
export const QUORUM_INVALID = "PROTOCOL_QUORUM_INVALID";

/**
 * k-of-n replication quorum (docs/protocol.md §Replication quorum): "adaptive to reputation
 * (BOINC style)". Work that cannot carry a proof is trusted when enough devices independently
 * return the same result, compared by digest (a kind that compares with a tolerance names each
 * class of agreeing results by a digest of its own). As in BOINC's adaptive
 * replication, a reputable device's result may stand alone (k = 1) but is spot-checked at
 * random; others need 2 or 3 agreeing replicas.
 *
 * Votes are counted, never weighted by reputation: reputation only decides how many agreeing
 * replicas suffice. So a reputable liar cannot outvote honest replicas, and when results
 * disagree a digest wins only with an absolute majority of all replicas and at least
 * `disputeQuorum` supporters; a tie always asks for more replicas.
 *
 * Pure functions: reputations and the seeded Rng are inputs.
 */

export interface QuorumPolicy {
  /** At or above this reputation a device's lone result suffices (k = 1), unless spot-checked. */
  readonly trustedReputation: number;
  /** Below this reputation a device needs k = 3 agreeing replicas; between the two, k = 2. */
  readonly lowReputation: number;
  /** Probability that a trusted device's task is replicated anyway (BOINC's spot check). */
  readonly spotCheckProbability: number;
  /** Agreeing replicas a digest needs when replicas disagree. */
  readonly disputeQuorum: number;
  /** Replicas per fragment after which the node stops asking and escalates (named limit). */
  readonly maxReplicas: number;
}

/**
 * Defaults (ours; the whitepaper gives none). Reputation lies in [0, 1] as in @dpn/protocol's
 * assignment. 0.9 and 0.5 split devices into trusted / ordinary / new-or-suspect; a 10% spot-check
 * rate means a trusted device that lies on a fraction f of its tasks is caught after about
 * 10/f tasks on average. Seven replicas bound the work one disputed fragment can cost.
 */
export const DEFAULT_QUORUM_POLICY: QuorumPolicy = {
  trustedReputation: 0.9,
  lowReputation: 0.5,
  spotCheckProbability: 0.1,
  disputeQuorum: 2,
  maxReplicas: 7,
};

export interface Replica {
  readonly deviceId: string;
  /** SHA-256 hex digest of the device's canonical partial. */
  readonly digest: string;
}

export type Reputations = ReadonlyMap<string, number> | Readonly<Record<string, number>>;

export type QuorumDecision =
  | {
      readonly status: "accepted";
      readonly digest: string;
      /** Devices that returned the accepted digest (to reward). */
      readonly agreeing: readonly string[];
      /** Devices that returned another digest (to penalise). */
      readonly outvoted: readonly string[];
      /** The quorum that was required. */
      readonly quorum: number;
    }
  | {
      readonly status: "need-more";
      /** Fewest further replicas that could settle it, if they all agree with the leader. */
      readonly additionalReplicas: number;
      readonly quorum: number;
    }
  | {
      /** maxReplicas reached without a decision: escalate (trusted re-execution, drop the fragment). */
      readonly status: "inconclusive";
      readonly quorum: number;
    };

const DIGEST = /^[0-9a-f]{64}$/;
/** Device ids are short opaque strings; a bound keeps a malicious report from bloating state. */
const MAX_DEVICE_ID_LENGTH = 256;

function invalid(message: string, details: Record<string, unknown> = {}): DpnError {
  return new DpnError(QUORUM_INVALID, message, {
    hint: "Pass one report per device with a SHA-256 hex digest, and every device's reputation in [0, 1].",
    details,
  });
}

export function checkQuorumPolicy(policy: QuorumPolicy): QuorumPolicy {
  const unit = (x: number): boolean => Number.isFinite(x) && x >= 0 && x <= 1;
  const ok =
    unit(policy.trustedReputation) &&
    unit(policy.lowReputation) &&
    policy.lowReputation <= policy.trustedReputation &&
    unit(policy.spotCheckProbability) &&
    Number.isSafeInteger(policy.disputeQuorum) &&
    policy.disputeQuorum >= 2 &&
    Number.isSafeInteger(policy.maxReplicas) &&
    policy.maxReplicas >= Math.max(3, policy.disputeQuorum) &&
    policy.maxReplicas <= 64;
  if (!ok) {
    throw new DpnError(QUORUM_INVALID, "The quorum policy is out of range.", {
      hint: "Reputations and the spot-check probability lie in [0, 1], low ≤ trusted, 2 ≤ disputeQuorum, 3 ≤ maxReplicas ≤ 64.",
      details: { ...policy },
    });
  }
  return policy;
}

function reputationOf(reputations: Reputations, deviceId: string): number {
  const value =
    reputations instanceof Map
      ? reputations.get(deviceId)
      : Object.hasOwn(reputations, deviceId)
        ? (reputations as Readonly<Record<string, number>>)[deviceId]
        : undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(`Device "${deviceId}" has no reputation in [0, 1].`, { deviceId });
  }
  return value;
}

/** Agreeing replicas a device of this reputation needs on its own: 1, 2 or 3. */
export function baseQuorum(
  reputation: number,
  policy: QuorumPolicy = DEFAULT_QUORUM_POLICY,
): number {
  if (reputation >= policy.trustedReputation) return 1;
  if (reputation >= policy.lowReputation) return 2;
  return 3;
}

export interface ReplicationPlan {
  /** Replicas to dispatch at first. */
  readonly replicas: number;
  /** True when a trusted device's task was picked for a spot check; pass it to decideQuorum. */
  readonly spotCheck: boolean;
}

/**
 * How many replicas to send a fragment out to, given the reputation of the device it is first
 * assigned to. A trusted device is spot-checked with probability spotCheckProbability (one draw
 * of the seeded Rng, so the choice is auditable); the device cannot know which tasks are checked.
 */
export function planReplication(
  reputation: number,
  rng: Rng,
  policy: QuorumPolicy = DEFAULT_QUORUM_POLICY,
): ReplicationPlan {
  checkQuorumPolicy(policy);
  if (!Number.isFinite(reputation) || reputation < 0 || reputation > 1) {
    throw invalid(`reputation must lie in [0, 1], got ${reputation}.`);
  }
  const k = baseQuorum(reputation, policy);
  if (k > 1) return { replicas: k, spotCheck: false };
  const spotCheck = rng.nextFloat() < policy.spotCheckProbability;
  return { replicas: spotCheck ? 2 : 1, spotCheck };
}

export interface QuorumInput {
  readonly replicas: readonly Replica[];
  readonly reputations: Reputations;
  /** From planReplication: a spot-checked fragment needs 2 agreeing replicas even if trusted. */
  readonly spotCheck?: boolean;
  readonly policy?: QuorumPolicy;
}

/**
 * Decides one fragment from the replicas returned so far.
 *
 * - Unanimous: the digest is accepted once its supporters reach k = the smallest base quorum
 *   among them (raised to 2 under a spot check).
 * - Disputed: the leading digest is accepted only with an absolute majority of all replicas and
 *   at least max(disputeQuorum, k of its supporters) of them; the others are outvoted. A tie
 *   between the top two can never be a majority, so it always asks for more.
 * - Otherwise more replicas are requested, until maxReplicas, then it is inconclusive.
 */
export function decideQuorum(input: QuorumInput): QuorumDecision {
  const policy = checkQuorumPolicy(input.policy ?? DEFAULT_QUORUM_POLICY);
  const { replicas, reputations } = input;
  if (!Array.isArray(replicas) || replicas.length > policy.maxReplicas) {
    throw invalid(`At most ${policy.maxReplicas} replicas per fragment.`, {
      replicas: Array.isArray(replicas) ? replicas.length : String(replicas),
    });
  }
  const supporters = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const replica of replicas) {
    const { deviceId, digest } = replica;
    if (
      typeof deviceId !== "string" ||
      deviceId.length === 0 ||
      deviceId.length > MAX_DEVICE_ID_LENGTH
    ) {
      throw invalid("Every replica needs a device id of 1 to 256 characters.");
    }
    if (seen.has(deviceId)) {
      throw invalid(`Device "${deviceId}" reported twice; one device is one vote.`, { deviceId });
    }
    seen.add(deviceId);
    if (typeof digest !== "string" || !DIGEST.test(digest)) {
      throw invalid(`Device "${deviceId}" sent a malformed digest.`, { deviceId });
    }
    reputationOf(reputations, deviceId);
    const list = supporters.get(digest) ?? [];
    list.push(deviceId);
    supporters.set(digest, list);
  }
  const minimum = input.spotCheck === true ? 2 : 1;
  if (replicas.length === 0) {
    return { status: "need-more", additionalReplicas: 1, quorum: minimum };
  }
  // Leader: most supporters; ties broken by digest only to make the output deterministic (a tie
  // never wins, see below).
  const ranked = [...supporters.entries()].sort(
    ([da, a], [db, b]) => b.length - a.length || (da < db ? -1 : da > db ? 1 : 0),
  );
  const [leaderDigest, leaders] = ranked[0] as [string, string[]];
  const k = Math.min(...leaders.map((id) => baseQuorum(reputationOf(reputations, id), policy)));
  const total = replicas.length;
  const disputed = ranked.length > 1;
  const quorum = disputed ? Math.max(policy.disputeQuorum, k) : Math.max(minimum, k);
  const majority = !disputed || 2 * leaders.length > total;
  if (leaders.length >= quorum && majority) {
    const agreeing = [...leaders].sort();
    const outvoted = replicas
      .filter((r) => r.digest !== leaderDigest)
      .map((r) => r.deviceId)
      .sort();
    return { status: "accepted", digest: leaderDigest, agreeing, outvoted, quorum };
  }
  // If every new replica agreed with the leader: it needs `quorum` supporters and, when disputed,
  // leaders + x > (total + x) / 2, i.e. x > total − 2·leaders.
  const forQuorum = quorum - leaders.length;
  const forMajority = disputed ? total - 2 * leaders.length + 1 : 0;
  const additionalReplicas = Math.max(1, forQuorum, forMajority);
  if (total + additionalReplicas > policy.maxReplicas) return { status: "inconclusive", quorum };
  return { status: "need-more", additionalReplicas, quorum };
}

export interface FragmentReplicas {
  readonly fragmentId: string;
  readonly replicas: readonly Replica[];
  readonly spotCheck?: boolean;
}

export interface JobQuorum {
  readonly decisions: ReadonlyMap<string, QuorumDecision>;
  /** Every device outvoted on some fragment, each once, sorted. */
  readonly penalise: readonly string[];
  /** True when every fragment has an accepted digest. */
  readonly complete: boolean;
}

/** decideQuorum for every fragment of a job, with the union of devices to penalise. */
export function decideJobQuorum(
  fragments: readonly FragmentReplicas[],
  reputations: Reputations,
  policy: QuorumPolicy = DEFAULT_QUORUM_POLICY,
): JobQuorum {
  const decisions = new Map<string, QuorumDecision>();
  const penalise = new Set<string>();
  for (const fragment of fragments) {
    if (decisions.has(fragment.fragmentId)) {
      throw invalid(`Fragment "${fragment.fragmentId}" is listed twice.`);
    }
    const decision = decideQuorum({
      replicas: fragment.replicas,
      reputations,
      policy,
      ...(fragment.spotCheck === undefined ? {} : { spotCheck: fragment.spotCheck }),
    });
    decisions.set(fragment.fragmentId, decision);
    if (decision.status === "accepted") for (const id of decision.outvoted) penalise.add(id);
  }
  return {
    decisions,
    penalise: [...penalise].sort(),
    complete: [...decisions.values()].every((d) => d.status === "accepted"),
  };
}
