import { DpnError } from "./errors.ts";
import { seededRng } from "./rng.ts";
import { inRange, nonNegative, nonNegativeInteger, unitInterval } from "./validate.ts";

/**
 * Fragment assignment (docs/protocol.md §Assignment), §3.4: "Allocate tasks based on
 * geographical location hashing (Geohash) to avoid regional computing power concentration" and
 * "a random task scheduling algorithm to reduce the risk of collusion between nodes".
 *
 * Deterministic in its inputs: candidates are put in id order, and every draw comes from
 * seededRng(seed). Publishing the seed and the candidate list lets anyone re-run the assignment
 * and check it (`auditAssignment`).
 */
export interface Candidate {
  readonly deviceId: string;
  /** The device's coarse region, a geohash (precision 4 at registration). */
  readonly geohash: string;
  /** Measured capability, CU/s. */
  readonly capabilityCuPerSec: number;
  /** Reputation in [0, 1]. */
  readonly reputation: number;
}

export interface AssignmentInput {
  readonly seed: string;
  readonly fragments: number;
  readonly candidates: readonly Candidate[];
  /** Geohash precision at which fragments are dispersed: precision 3 cells are ~156 km wide. */
  readonly dispersionPrecision?: number;
}

export interface FragmentAssignment {
  readonly fragment: number;
  readonly deviceId: string;
  /** The device's region (geohash prefix at the dispersion precision). */
  readonly region: string;
  /** True when every device at the fewest-fragments level was in an already used region. */
  readonly regionReused: boolean;
}

export const DEFAULT_DISPERSION_PRECISION = 3;
/** Bounds one scheduling decision's work: O(fragments × candidates). */
export const MAX_ASSIGNMENT_CANDIDATES = 100_000;
const GEOHASH = /^[0123456789bcdefghjkmnpqrstuvwxyz]{1,12}$/;

function checkCandidate(candidate: Candidate): void {
  if (typeof candidate.deviceId !== "string" || candidate.deviceId.length === 0) {
    throw new DpnError("PROTOCOL_INVALID_INPUT", "Every candidate needs a non-empty deviceId.");
  }
  if (!GEOHASH.test(candidate.geohash)) {
    throw new DpnError("PROTOCOL_INVALID_GEOHASH", `"${candidate.geohash}" is not a geohash.`, {
      hint: "A geohash is 1-12 characters of 0-9 and b-z without a, i, l, o.",
      details: { deviceId: candidate.deviceId },
    });
  }
  nonNegative("capabilityCuPerSec", candidate.capabilityCuPerSec);
  unitInterval("reputation", candidate.reputation);
}

/**
 * Assigns each fragment to a device (docs/protocol.md §Assignment):
 * 1. Only devices holding the fewest fragments of this job so far are considered, so no device
 *    holds two fragments while another eligible device holds none.
 * 2. Among them, devices whose region (geohash prefix at the dispersion precision) holds no
 *    fragment yet are preferred; only when there are none may a region be used again.
 * 3. One is drawn at random, weighted by capability × reputation (uniformly if all weigh 0).
 */
export function assignFragments(input: AssignmentInput): FragmentAssignment[] {
  nonNegativeInteger("fragments", input.fragments);
  const precision = inRange(
    "dispersionPrecision",
    input.dispersionPrecision ?? DEFAULT_DISPERSION_PRECISION,
    0,
    12,
  );
  if (input.candidates.length > MAX_ASSIGNMENT_CANDIDATES) {
    throw new DpnError("PROTOCOL_TOO_MANY_CANDIDATES", "Too many candidates for one assignment.", {
      hint: `Pre-filter to at most ${MAX_ASSIGNMENT_CANDIDATES} eligible devices.`,
    });
  }
  if (input.fragments > 0 && input.candidates.length === 0) {
    throw new DpnError("SCHEDULER_NO_ELIGIBLE_DEVICES", "No eligible device for this job.", {
      hint: "Wait for an eligible device to connect, or check the job's task type and layer.",
    });
  }
  input.candidates.forEach(checkCandidate);
  const candidates = [...input.candidates].sort((a, b) =>
    a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
  );
  const n = candidates.length;
  for (let i = 1; i < n; i++) {
    if (candidates[i]?.deviceId === candidates[i - 1]?.deviceId) {
      throw new DpnError("PROTOCOL_INVALID_INPUT", "Candidate device ids must be distinct.", {
        details: { deviceId: candidates[i]?.deviceId },
      });
    }
  }

  const regions = candidates.map((c) => c.geohash.slice(0, precision));
  const weights = Float64Array.from(candidates, (c) => c.capabilityCuPerSec * c.reputation);
  const held = new Uint32Array(n);
  const usedRegions = new Set<string>();
  const fresh = new Int32Array(n);
  const level = new Int32Array(n);
  const rng = seededRng(input.seed);
  const assignments: FragmentAssignment[] = [];
  // Devices' fragment counts stay within one of each other: all hold `fewest` or `fewest + 1`.
  let fewest = 0;
  let atFewest = n;

  for (let fragment = 0; fragment < input.fragments; fragment++) {
    if (atFewest === 0) {
      fewest += 1;
      atFewest = n;
    }
    let freshCount = 0;
    let levelCount = 0;
    for (let i = 0; i < n; i++) {
      if (held[i] !== fewest) continue;
      level[levelCount++] = i;
      if (!usedRegions.has(regions[i] as string)) fresh[freshCount++] = i;
    }
    const regionReused = freshCount === 0;
    const pick = regionReused
      ? weightedPick(level, levelCount, weights, rng.nextFloat())
      : weightedPick(fresh, freshCount, weights, rng.nextFloat());
    held[pick] = fewest + 1;
    atFewest -= 1;
    const region = regions[pick] as string;
    usedRegions.add(region);
    assignments.push({
      fragment,
      deviceId: (candidates[pick] as Candidate).deviceId,
      region,
      regionReused,
    });
  }
  return assignments;
}

/** Index drawn from choices[0..count) with probability proportional to its weight. */
function weightedPick(
  choices: Int32Array,
  count: number,
  weights: Float64Array,
  u: number,
): number {
  let total = 0;
  for (let k = 0; k < count; k++) total += weights[choices[k] as number] as number;
  if (total <= 0) return choices[Math.floor(u * count)] as number;
  let target = u * total;
  let lastWeighted = choices[0] as number;
  for (let k = 0; k < count; k++) {
    const i = choices[k] as number;
    const weight = weights[i] as number;
    if (weight <= 0) continue;
    lastWeighted = i;
    target -= weight;
    if (target < 0) return i;
  }
  // Floating-point rounding can leave target at ~0 after the last weight: never a 0-weight pick.
  return lastWeighted;
}
/** Re-runs an assignment from its recorded inputs and says whether the result matches. */
export function auditAssignment(
  input: AssignmentInput,
  recorded: readonly FragmentAssignment[],
): boolean {
  const replay = assignFragments(input);
  return (
    replay.length === recorded.length &&
    replay.every(
      (a, i) => a.deviceId === recorded[i]?.deviceId && a.fragment === recorded[i]?.fragment,
    )
  );
}
