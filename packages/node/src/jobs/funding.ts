import type { Ledger } from "@dpn/ledger";
import { isDpnError } from "@dpn/protocol";
import { ownerAccount } from "../accounts.ts";
import type { JobRow, TaskRow } from "../store/schema.ts";

/**
 * Each task holds its share of the job's budget in the ledger (docs/protocol.md §Rewards and
 * quotes): placed before the job is acknowledged, captured when the task is paid, released when
 * it ends unpaid. Every step is idempotent by a key derived from the task's hold id.
 */

/** A hold outlives the deadline by a day, so a result verified just before it can still be paid. */
export const HOLD_GRACE_MS = 86_400_000;

export async function placeHolds(
  ledger: Ledger,
  job: Pick<JobRow, "requester" | "deadline_ms">,
  tasks: ReadonlyArray<Pick<TaskRow, "hold_id" | "hold_amount">>,
): Promise<void> {
  const expiresAtMs = job.deadline_ms + HOLD_GRACE_MS;
  await Promise.all(
    tasks.map((task) =>
      ledger.placeHold({
        idempotencyKey: task.hold_id,
        holdId: task.hold_id,
        from: ownerAccount(job.requester),
        amount: BigInt(task.hold_amount),
        expiresAtMs,
      }),
    ),
  );
}

/** Releases the holds still open; a hold already closed (or never placed) is left as it is. */
export async function releaseHolds(
  ledger: Ledger,
  tasks: ReadonlyArray<Pick<TaskRow, "hold_id">>,
): Promise<void> {
  await Promise.all(
    tasks.map(async (task) => {
      const hold = await ledger.hold(task.hold_id);
      if (hold === undefined || hold.status !== "open") return;
      try {
        await ledger.releaseHold({
          idempotencyKey: `${task.hold_id}:release`,
          holdId: task.hold_id,
        });
      } catch (error) {
        // Expired by the sweep meanwhile: the funds are back with the payer either way.
        if (!isDpnError(error, "LEDGER_HOLD_EXPIRED")) throw error;
      }
    }),
  );
}
