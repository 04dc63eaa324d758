import {
  ASSIGNMENT_SEED_DOMAIN,
  assignFragments,
  assignmentSeed,
  GENESIS_EPOCH,
  GENESIS_EPOCH_ROOT,
  isDpnError,
  parseDpn,
} from "@dpn/protocol";
import type { DpnClient } from "@dpn/sdk";
import {
  type Envelope,
  envelopeDigest,
  envelopeSignatures,
  identityId,
  type JobAssignmentResponse,
  JobSubmit,
  MAX_CLOCK_SKEW_MS,
  parseEnvelope,
} from "@dpn/wire";

/**
 * `dpn job audit` (docs/protocol.md §Assignment seed): recomputes a job's assignment seed from
 * the inputs the node recorded, checking each input against what the node cannot change (the
 * requester's signatures, the ledger's sealed epoch), then re-runs every recorded assignment
 * with the recomputed seed. Nothing the record claims is taken as given: the record's `seed` is
 * only compared with the recomputation.
 */
export interface AuditCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface AssignmentCheck {
  readonly assignment: number;
  readonly tasks: readonly string[];
  readonly picks: readonly string[];
  readonly replay: readonly string[];
  /** Whether the recorded input's seed is the recomputed job seed with the tasks' attempts. */
  readonly seeded: boolean;
  readonly matches: boolean;
}

export interface JobAudit {
  readonly jobId: string;
  /** The seed as recomputed from the inputs (undefined when they could not be read). */
  readonly seed: string | undefined;
  readonly checks: readonly AuditCheck[];
  readonly assignments: readonly AssignmentCheck[];
  readonly ok: boolean;
}

/** Reads the job's record, its view and the sealed epochs it names, and audits them. */
export async function auditJob(dpn: DpnClient, jobId: string): Promise<JobAudit> {
  const record = await dpn.jobAssignment(jobId);
  const view = await dpn.job(jobId);
  const policy = (await dpn.node()).signaturePolicy;
  const checks: AuditCheck[] = [];
  const seed = await auditSeed(dpn, record, view, policy, checks);
  const assignments = record.assignments.map((a, i): AssignmentCheck => {
    const replay = assignFragments(a.input).map((pick) => pick.deviceId);
    const seeded = seed !== undefined && a.input.seed.startsWith(`${seed}:`);
    const matches =
      seeded && replay.length === a.picks.length && replay.every((id, k) => id === a.picks[k]);
    return { assignment: i + 1, tasks: a.tasks, picks: a.picks, replay, seeded, matches };
  });
  const ok = checks.every((c) => c.ok) && assignments.every((a) => a.matches);
  return { jobId, seed, checks, assignments, ok };
}

async function auditSeed(
  dpn: DpnClient,
  record: JobAssignmentResponse,
  view: { readonly type: string; readonly budget: string },
  policy: string,
  checks: AuditCheck[],
): Promise<string | undefined> {
  const inputs = record.seedInputs;
  if (inputs === null) {
    checks.push({
      check: "seed inputs",
      ok: false,
      detail:
        "the node recorded none (a job accepted before they were kept): its seed was the node's choice",
    });
    return undefined;
  }
  let envelope: Envelope;
  try {
    envelope = parseEnvelope(inputs.submission.envelope);
  } catch (error) {
    checks.push({ check: "submission digest", ok: false, detail: messageOf(error) });
    return undefined;
  }
  const digest = envelopeDigest(envelope);
  checks.push({
    check: "submission digest",
    ok: digest === inputs.submissionDigest,
    detail:
      digest === inputs.submissionDigest
        ? `SHA-256 of the signed submission's bytes is ${digest}`
        : `SHA-256 of the signed submission's bytes is ${digest}, the record says ${inputs.submissionDigest}`,
  });
  checks.push(signatureCheck(envelope, inputs.submission.keys, record.requester, policy));
  checks.push(payloadCheck(envelope, view));
  checks.push(acceptanceCheck(envelope, record.acceptedAtMs));
  const root = await epochChecks(dpn, inputs.epoch, record.acceptedAtMs, checks);
  // The seed is recomputed from the digest of the envelope and the ledger's root, not from the
  // record's copies of them: a record whose inputs were changed gives another seed.
  const seed = assignmentSeed({ submissionDigest: digest, epochRoot: root });
  checks.push({
    check: "seed",
    ok: seed === record.seed,
    detail:
      seed === record.seed
        ? `sha256("${ASSIGNMENT_SEED_DOMAIN}" ‖ digest ‖ epoch ${inputs.epoch.epoch} root) = ${seed}`
        : `recomputed ${seed} from the submission and epoch ${inputs.epoch.epoch}'s root, the record says ${record.seed}`,
  });
  return seed;
}

/** The keys are the requester's (its id is derived from them) and both signatures verify. */
function signatureCheck(
  envelope: Envelope,
  keys: { readonly ed25519PublicKey: string; readonly mldsa44PublicKey: string },
  requester: string,
  policy: string,
): AuditCheck {
  const check = "requester's signature";
  const ed25519PublicKey = new Uint8Array(Buffer.from(keys.ed25519PublicKey, "base64"));
  const mldsa44PublicKey = new Uint8Array(Buffer.from(keys.mldsa44PublicKey, "base64"));
  let id: string;
  try {
    id = identityId(ed25519PublicKey, mldsa44PublicKey);
  } catch (error) {
    return {
      check,
      ok: false,
      detail: `the recorded keys are not an identity: ${messageOf(error)}`,
    };
  }
  if (id !== envelope.from || id !== requester) {
    return {
      check,
      ok: false,
      detail: `the keys are ${id}'s, the submission is from ${envelope.from}, the job is ${requester}'s`,
    };
  }
  if (envelope.kind !== "job.submit") {
    return {
      check,
      ok: false,
      detail: `the signed message is a ${envelope.kind}, not a job.submit`,
    };
  }
  const pqOnly = policy === "pq-only";
  let valid: { readonly ed25519: boolean; readonly mldsa44: boolean };
  try {
    valid = envelopeSignatures(
      envelope,
      { id, ed25519PublicKey, mldsa44PublicKey },
      pqOnly ? "pq-only" : "hybrid",
    );
  } catch (error) {
    return { check, ok: false, detail: messageOf(error) };
  }
  const ok = valid.mldsa44 && (pqOnly || valid.ed25519);
  return {
    check,
    ok,
    detail: `ML-DSA-44 ${valid.mldsa44 ? "verifies" : "does not verify"}, Ed25519 ${
      pqOnly ? "not required (pq-only)" : valid.ed25519 ? "verifies" : "does not verify"
    } under ${requester}'s keys`,
  };
}

/** The signed submission is this job's: its type and budget are the job's. */
function payloadCheck(
  envelope: Envelope,
  view: { readonly type: string; readonly budget: string },
): AuditCheck {
  const check = "submission is this job's";
  let submit: JobSubmit;
  try {
    submit = JobSubmit.parse(JSON.parse(envelope.payload));
  } catch {
    return { check, ok: false, detail: "the signed payload is not a job submission" };
  }
  const ok = submit.spec.type === view.type && parseDpn(submit.budget) === parseDpn(view.budget);
  return {
    check,
    ok,
    detail: ok
      ? `a ${submit.spec.type} job with a budget of ${submit.budget} DPN (clientRef ${submit.clientRef})`
      : `the submission is a ${submit.spec.type} job of ${submit.budget} DPN, the job a ${view.type} of ${view.budget}`,
  };
}

/** The node accepted the job while the submission was valid, so it could not hold it longer. */
function acceptanceCheck(envelope: Envelope, acceptedAtMs: number): AuditCheck {
  const from = envelope.issuedAtMs - MAX_CLOCK_SKEW_MS;
  const until = envelope.expiresAtMs + MAX_CLOCK_SKEW_MS;
  const ok = acceptedAtMs >= from && acceptedAtMs <= until;
  return {
    check: "accepted while the submission was valid",
    ok,
    detail: `accepted at ${acceptedAtMs}; the submission was valid from ${from} to ${until} (with the clock skew)`,
  };
}

/**
 * The recorded epoch is the ledger's (GET /v1/ledger/epochs/{n}) and was the last sealed when
 * the job was accepted: sealed by then, and epoch n + 1 not. Returns the root the seed is
 * recomputed with: the ledger's when it answered, else the record's.
 */
async function epochChecks(
  dpn: DpnClient,
  epoch: { readonly epoch: number; readonly root: string; readonly sealedAtMs: number | null },
  acceptedAtMs: number,
  checks: AuditCheck[],
): Promise<string> {
  let root = epoch.root;
  if (epoch.epoch === GENESIS_EPOCH) {
    root = GENESIS_EPOCH_ROOT;
    checks.push({
      check: "epoch root",
      ok: epoch.root === GENESIS_EPOCH_ROOT,
      detail:
        epoch.root === GENESIS_EPOCH_ROOT
          ? "no epoch was sealed: the genesis root"
          : `epoch 0 is the genesis root ${GENESIS_EPOCH_ROOT}, the record says ${epoch.root}`,
    });
  } else {
    const sealed = await sealedEpoch(dpn, epoch.epoch);
    if (sealed === undefined) {
      checks.push({
        check: "epoch root",
        ok: false,
        detail: `the ledger has sealed no epoch ${epoch.epoch}`,
      });
    } else {
      root = sealed.root;
      const ok = sealed.root === epoch.root && sealed.atMs === epoch.sealedAtMs;
      checks.push({
        check: "epoch root",
        ok,
        detail: ok
          ? `epoch ${epoch.epoch}'s root is ${sealed.root} in the ledger (GET /v1/ledger/epochs/${epoch.epoch})`
          : `the ledger's epoch ${epoch.epoch} has root ${sealed.root} sealed at ${sealed.atMs}; the record says ${epoch.root} sealed at ${epoch.sealedAtMs}`,
      });
      if (sealed.atMs > acceptedAtMs) {
        checks.push({
          check: "last sealed epoch",
          ok: false,
          detail: `epoch ${epoch.epoch} was sealed at ${sealed.atMs}, after the job was accepted at ${acceptedAtMs}`,
        });
        return root;
      }
    }
  }
  const next = await sealedEpoch(dpn, epoch.epoch + 1);
  const ok = next === undefined || next.atMs >= acceptedAtMs;
  checks.push({
    check: "last sealed epoch",
    ok,
    detail: ok
      ? `epoch ${epoch.epoch + 1} ${next === undefined ? "is not sealed" : `was sealed at ${next.atMs}`}, not before the job was accepted at ${acceptedAtMs}`
      : `epoch ${epoch.epoch + 1} was sealed at ${next?.atMs}, before the job was accepted at ${acceptedAtMs}: the seed should have read it`,
  });
  return root;
}

async function sealedEpoch(
  dpn: DpnClient,
  epoch: number,
): Promise<{ readonly root: string; readonly atMs: number } | undefined> {
  try {
    return await dpn.ledgerEpoch(epoch);
  } catch (error) {
    if (isDpnError(error) && error.code === "EPOCH_NOT_SEALED") return undefined;
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The audit as lines: every check with pass or FAIL, then the assignments re-run. */
export function renderAudit(audit: JobAudit): string {
  const mismatched = audit.assignments.filter((a) => !a.matches);
  return [
    `audit of ${audit.jobId}:`,
    ...audit.checks.map((c) => `  ${c.ok ? "pass" : "FAIL"}  ${c.check}: ${c.detail}`),
    `${audit.assignments.length - mismatched.length} of ${audit.assignments.length} assignments of ${audit.jobId} match the protocol's choice from the recomputed seed`,
    ...mismatched.map((a) => {
      const rerun =
        a.replay.length === a.picks.length && a.replay.every((id, k) => id === a.picks[k]);
      if (!a.seeded && rerun) {
        return `  assignment ${a.assignment}: re-runs to its recorded picks, but from a seed that is not the recomputed job seed`;
      }
      const picks = `recorded ${a.picks.join(", ")}, re-run gives ${a.replay.join(", ")}`;
      return a.seeded
        ? `  assignment ${a.assignment}: ${picks}`
        : `  assignment ${a.assignment}: its seed is not the recomputed job seed; ${picks}`;
    }),
    audit.ok ? "the audit passed" : "the audit FAILED",
  ].join("\n");
}
