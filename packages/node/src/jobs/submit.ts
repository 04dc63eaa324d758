import { randomBytes } from "node:crypto";
import { assignmentSeed, DpnError, formatDpn, parseDpn, priceDpn } from "@dpn/protocol";
import { type Envelope, envelopeDigest, type JobSubmit, type JobView } from "@dpn/wire";
import { balanceOf } from "../accounts.ts";
import type { Core } from "../core.ts";
import type { EconomicsSnapshot } from "../economics/rateService.ts";
import { kindOf } from "../kinds/registry.ts";
import * as jobs from "../store/jobs.ts";
import type { JobRow, JobSubmissionsTable, TasksTable } from "../store/schema.ts";
import * as submissions from "../store/submissions.ts";
import { transitionJob } from "../store/transitions.ts";
import { placeHolds, releaseHolds } from "./funding.ts";
import { holdShares, newJobRow, newTaskRow } from "./rows.ts";
import { jobView } from "./views.ts";

/**
 * Accepts a job (docs/protocol.md §Jobs): its kind plans it into tasks, the node quotes the CU at
 * the rate in force, refuses a budget below the quote or above the requester's funds, holds the
 * budget task by task and opens the job. Idempotent per (requester, clientRef): a retry returns
 * the first job; the same clientRef for another job is refused (JOB_CLIENT_REF_REUSED).
 *
 * The job's seed (its assignment's and every draw its kind makes) comes from the requester's
 * signed submission and the last sealed ledger epoch (§Assignment seed), both kept with the job.
 */
export async function submitJob(
  core: Core,
  requester: string,
  submit: JobSubmit,
  signed: SignedSubmission,
): Promise<JobView> {
  const nowMs = core.now();
  const existing = await jobs.jobByClientRef(core.store.db, requester, submit.clientRef);
  if (existing !== undefined) {
    if (existing.spec_json !== JSON.stringify(submit.spec) || existing.budget !== submit.budget) {
      throw new DpnError(
        "JOB_CLIENT_REF_REUSED",
        "This clientRef was already used for a different job.",
        {
          hint: "Use a new clientRef for a new job; reuse one only to retry the same submission.",
          details: { jobId: existing.id },
        },
      );
    }
    return jobView(core, existing.id);
  }
  if (submit.deadlineMs <= nowMs) {
    throw new DpnError("JOB_DEADLINE_PASSED", "The job's deadline is in the past.", {
      hint: "Set deadlineMs to a future time (milliseconds since 1970).",
    });
  }
  const { maxJobDeadlineMs } = core.params.requests;
  if (submit.deadlineMs - nowMs > maxJobDeadlineMs) {
    // Checked before anything is held: the hold lasts until the deadline (and MAX_SAFE_INTEGER
    // would overflow the hold's expiry in the ledger).
    throw new DpnError(
      "JOB_DEADLINE_TOO_FAR",
      `The job's deadline is more than ${maxJobDeadlineMs / 86_400_000} days away.`,
      {
        hint: `Set deadlineMs at most ${maxJobDeadlineMs} ms after now (requests.maxJobDeadlineMs); split a longer run into jobs.`,
        details: { deadlineMs: submit.deadlineMs, maxDeadlineMs: nowMs + maxJobDeadlineMs },
      },
    );
  }
  const budget = parseDpn(submit.budget);
  const kind = kindOf(core.kinds, submit.spec.type);
  const jobId = `job_${randomBytes(8).toString("hex")}`;
  // Read after nowMs, under the sealer's lock: the epoch is the last sealed by the acceptance.
  const epoch = await core.epochs.latest();
  const submissionDigest = envelopeDigest(signed.envelope);
  const seed = assignmentSeed({ submissionDigest, epochRoot: epoch.root });
  const submission: JobSubmissionsTable = {
    job_id: jobId,
    envelope_json: JSON.stringify(signed.envelope),
    ed25519_public_key: signed.keys.ed25519PublicKey,
    mldsa44_public_key: signed.keys.mldsa44PublicKey,
    digest: submissionDigest,
    epoch: epoch.epoch,
    epoch_root: epoch.root,
    epoch_sealed_ms: epoch.sealedAtMs,
  };
  const plan = await kind.plan({
    spec: submit.spec,
    requester,
    jobId,
    seed,
    nowMs,
    eligibleDevices: core.scheduler.eligibleCount(submit.spec.type),
  });
  const totalCu = plan.tasks.reduce((sum, t) => sum + t.cu, 0);
  const { economics, quote } = await quoteWithin(core, requester, submit, budget, totalCu);
  const holds = holdShares(
    budget,
    plan.tasks.map((t) => t.cu),
  );
  const tasks = plan.tasks.map((t, i) => newTaskRow(jobId, t, holds[i] ?? 0n));
  const job = newJobRow({
    jobId,
    requester,
    submit,
    nowMs,
    totalCu,
    quote,
    economics,
    fragments: new Set(plan.tasks.map((t) => t.idx)).size,
    seed,
    kindData: plan.kindData,
  });
  await openJob(core, job, tasks, submission, plan.prepare, plan.undo);
  core.log("info", "job accepted", { jobId, type: job.type, tasks: tasks.length, cu: totalCu });
  return jobView(core, jobId);
}

/** The job.submit message as the node received it: the envelope and its sender's public keys. */
export interface SignedSubmission {
  readonly envelope: Envelope;
  readonly keys: { readonly ed25519PublicKey: string; readonly mldsa44PublicKey: string };
}

/**
 * Acknowledges a job: `prepare` (state the job needs before anyone can work on it), its rows,
 * then its holds; if anything fails, everything is undone and the job was never accepted. A
 * crash after the rows are written leaves it in `funding`, which recovery completes.
 */
async function openJob(
  core: Core,
  job: JobRow,
  tasks: readonly TasksTable[],
  submission: JobSubmissionsTable,
  prepare: ((jobId: string) => Promise<void>) | undefined,
  undo: ((jobId: string) => Promise<void>) | undefined,
): Promise<void> {
  try {
    await prepare?.(job.id);
    await core.store.transaction(async (trx) => {
      await jobs.insertJob(trx, job, tasks);
      await submissions.insertSubmission(trx, submission);
    });
    await placeHolds(core.ledger, job, tasks);
  } catch (error) {
    await releaseHolds(core.ledger, tasks);
    await core.store.transaction((trx) => jobs.deleteJob(trx, job.id));
    await undo?.(job.id);
    throw error;
  }
  await transitionJob(core.store.db, job.id, ["funding"], "open");
  core.events.emit("job", job.id);
  core.scheduler.schedule();
}

/**
 * The quote of `totalCu` at the rate in force; refuses a budget below it (JOB_BUDGET_TOO_LOW,
 * with the quote) or above what the requester holds (LEDGER_INSUFFICIENT_FUNDS).
 */
async function quoteWithin(
  core: Core,
  requester: string,
  submit: JobSubmit,
  budget: bigint,
  totalCu: number,
): Promise<{ economics: EconomicsSnapshot; quote: bigint }> {
  const economics = await core.economics();
  const quote = priceDpn(totalCu, economics.rate);
  if (budget < quote) {
    throw new DpnError(
      "JOB_BUDGET_TOO_LOW",
      `The budget ${submit.budget} DPN is below the quote of ${formatDpn(quote)} DPN.`,
      {
        hint: `Raise the budget to at least ${formatDpn(quote)} DPN (${totalCu.toFixed(3)} CU at ${economics.rate.cuPerDpn.toFixed(2)} CU/DPN).`,
        details: { quote: formatDpn(quote), cu: totalCu },
      },
    );
  }
  const balance = await balanceOf(core.ledger, requester);
  if (balance < budget) {
    throw new DpnError(
      "LEDGER_INSUFFICIENT_FUNDS",
      `The account holds ${formatDpn(balance)} DPN; the budget is ${submit.budget} DPN.`,
      { hint: "Lower the budget or fund the account first." },
    );
  }
  return { economics, quote };
}
