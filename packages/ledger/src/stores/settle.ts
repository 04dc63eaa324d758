import type { CommandOutcome } from "../batch.ts";
import type { Command } from "../commands.ts";
import { invariant, ledgerError } from "../errors.ts";
import type { Pending } from "../groupCommit.ts";
import type { Posting } from "../postings.ts";
import type { AccountState } from "../state.ts";

/** After COMMIT returned: each caller gets its own command's outcome. */
export function settle(
  batch: readonly Pending<Command, Posting | AccountState>[],
  outcomes: readonly CommandOutcome[],
): void {
  invariant(outcomes.length === batch.length, "a batch lost track of a command");
  batch.forEach((pending, i) => {
    const outcome = outcomes[i] as CommandOutcome;
    if (outcome.ok) pending.resolve(outcome.value);
    else pending.reject(outcome.error);
  });
}

/** The whole batch failed before or during COMMIT: nothing of it was written. */
export function storageFailure(error: unknown): unknown {
  if (error instanceof Error && "code" in error && String(error.code).startsWith("LEDGER_"))
    return error;
  return ledgerError(
    "LEDGER_STORAGE_FAILED",
    "The batch holding this operation could not be committed; nothing was written.",
    {
      hint: "Retry with the same idempotency key. If it keeps failing, check the disk and the database logs.",
      details: { reason: error instanceof Error ? error.message : String(error) },
      cause: error,
    },
  );
}
