import type { JobSubmit } from "@dpn/wire";
import type { EconomicsSnapshot } from "../economics/rateService.ts";
import type { PlannedTask } from "../kinds/kind.ts";
import type { JobsTable, TasksTable } from "../store/schema.ts";

/** The rows of a new job and its tasks. */

/** Task ids: a fragment's first task `<job>.<idx>`, its replicas `<job>.<idx>.r<n>`. */
export function taskId(jobId: string, idx: number, replica: number): string {
  return replica === 0 ? `${jobId}.${idx}` : `${jobId}.${idx}.r${replica}`;
}

/** A task not yet run: its own hold, no device, no output. */
export function newTaskRow(
  jobId: string,
  task: PlannedTask,
  holdAmount: bigint,
  excluded: readonly string[] = [],
): TasksTable {
  const id = taskId(jobId, task.idx, task.replica);
  return {
    id,
    job_id: jobId,
    idx: task.idx,
    item_from: task.items[0],
    item_to: task.items[1],
    cu: task.cu,
    state: task.state,
    device_id: null,
    attempt: 0,
    lease_expires_ms: null,
    lease_started_ms: null,
    hold_id: `hold:${id}`,
    hold_amount: holdAmount.toString(),
    output_json: null,
    price: null,
    reward: null,
    burn_bps: null,
    excluded_json: JSON.stringify(excluded),
    done_ms: null,
    replica: task.replica,
    failure: null,
    reward_withheld: null,
    kind_data: null,
  };
}

/** A job's row as accepted: funding until its holds are placed. */
export function newJobRow(j: {
  readonly jobId: string;
  readonly requester: string;
  readonly submit: JobSubmit;
  readonly nowMs: number;
  readonly totalCu: number;
  readonly quote: bigint;
  readonly economics: EconomicsSnapshot;
  readonly fragments: number;
  readonly seed: string;
  readonly kindData: unknown;
}): JobsTable {
  return {
    id: j.jobId,
    requester: j.requester,
    client_ref: j.submit.clientRef,
    type: j.submit.spec.type,
    spec_json: JSON.stringify(j.submit.spec),
    budget: j.submit.budget,
    deadline_ms: j.submit.deadlineMs,
    state: "funding",
    created_ms: j.nowMs,
    cu: j.totalCu,
    quote: j.quote.toString(),
    cu_per_dpn: j.economics.rate.cuPerDpn,
    fragments: j.fragments,
    seed: j.seed,
    assignment_json: "[]",
    finished_ms: null,
    failure: null,
    kind_data: j.kindData === undefined ? null : JSON.stringify(j.kindData),
  };
}

/**
 * The budget held per task, in proportion to its CU (docs/protocol.md §Rewards and quotes); the
 * last task takes the rounding dust, so the holds sum to the budget exactly.
 */
export function holdShares(budget: bigint, cus: readonly number[]): bigint[] {
  const total = cus.reduce((a, b) => a + b, 0);
  // CU as integer micro-units keep the division exact and independent of float rounding order.
  const weights = cus.map((cu) => BigInt(Math.max(1, Math.round((cu / (total || 1)) * 1e9))));
  const sum = weights.reduce((a, b) => a + b, 0n);
  let held = 0n;
  return weights.map((w, i) => {
    const amount = i === weights.length - 1 ? budget - held : (budget * w) / sum;
    held += amount;
    return amount;
  });
}
