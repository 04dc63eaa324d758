import { DEFAULT_RECYCLE_BPS, emissionReplenishment, formatDpn } from "@dpn/protocol";
import { SYSTEM_ACCOUNTS } from "../accounts.ts";
import { checkBps, checkIdempotencyKey, type ReplenishEmissionCommand } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas, requireAccount } from "./guards.ts";

export interface ReplenishEmissionInput {
  readonly idempotencyKey: string;
  /** Share of the burns since the last replenishment to re-issue; default 10000n (all). */
  readonly recycleBps?: bigint;
}

export function replenishEmissionCommand(
  input: ReplenishEmissionInput,
  atMs: number,
): ReplenishEmissionCommand {
  return {
    kind: "replenishEmission",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    recycleBps: checkBps("recycleBps", input.recycleBps ?? DEFAULT_RECYCLE_BPS),
  };
}

/**
 * Re-issues burned supply into the emission pool (protocol `emissionReplenishment`): the burns
 * since the last replenishment times recycleBps, never past the cap on outstanding supply.
 * Issuance goes further negative by the same amount, so the books stay balanced.
 */
export function planReplenishEmission(command: ReplenishEmissionCommand, state: LedgerState): Plan {
  const meta = state.meta();
  const burned = requireAccount(state, "burn sink", SYSTEM_ACCOUNTS.burn).balance;
  const issued = -requireAccount(state, "issuance", SYSTEM_ACCOUNTS.issuance).balance;
  const burnedSinceMark = burned - meta.burnMark;
  const amount =
    meta.genesisSeq === null
      ? 0n
      : emissionReplenishment(burnedSinceMark, issued - burned, command.recycleBps, meta.cap);
  if (amount === 0n) {
    throw ledgerError(
      "LEDGER_NOTHING_TO_REPLENISH",
      `Nothing to re-issue: ${formatDpn(burnedSinceMark)} DPN burned since the last replenishment at ${command.recycleBps} bps.`,
      {
        hint: "Run it once per epoch after burns; burns not yet re-issued carry over to the next call.",
        details: { burnedSinceMark, recycleBps: command.recycleBps },
      },
    );
  }
  return {
    deltas: new Deltas().move(SYSTEM_ACCOUNTS.issuance, SYSTEM_ACCOUNTS.emissionPool, amount).map,
    meta: { ...meta, replenishedTotal: meta.replenishedTotal + amount, burnMark: burned },
  };
}
