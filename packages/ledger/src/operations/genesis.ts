import { type GenesisBucket, genesisAllocation, TOTAL_SUPPLY_CAP } from "@dpn/protocol";
import { SYSTEM_ACCOUNTS, type SystemAccountId } from "../accounts.ts";
import { type AmountInput, positiveUnits } from "../amounts.ts";
import { checkIdempotencyKey, type GenesisCommand } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { LedgerState, Plan } from "../state.ts";
import { Deltas } from "./guards.ts";

export interface GenesisInput {
  readonly idempotencyKey: string;
  /** Defaults to TOTAL_SUPPLY_CAP (100M DPN, §4.1). Other values are for tests. */
  readonly cap?: AmountInput;
}

/** Where each genesis bucket (docs/protocol.md §Supply) lands. */
export const GENESIS_ACCOUNTS: Readonly<Record<GenesisBucket, SystemAccountId>> = {
  miningEmission: SYSTEM_ACCOUNTS.emissionPool,
  governanceFund: SYSTEM_ACCOUNTS.governanceFund,
  reservePool: SYSTEM_ACCOUNTS.reservePool,
  liquidity: SYSTEM_ACCOUNTS.liquidity,
  contributors: SYSTEM_ACCOUNTS.contributors,
};

export function genesisCommand(input: GenesisInput, atMs: number): GenesisCommand {
  return {
    kind: "genesis",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    cap: input.cap === undefined ? TOTAL_SUPPLY_CAP : positiveUnits("cap", input.cap),
  };
}

/** Issues the whole cap once: issuance goes to -cap, the buckets receive genesisAllocation. */
export function planGenesis(command: GenesisCommand, state: LedgerState, seq: number): Plan {
  const meta = state.meta();
  if (meta.genesisSeq !== null) {
    throw ledgerError(
      "LEDGER_GENESIS_ALREADY_DONE",
      `Genesis already happened at posting ${meta.genesisSeq}.`,
      {
        hint: "Genesis runs once per ledger; new supply comes only from replenishEmission.",
        details: { genesisSeq: meta.genesisSeq },
      },
    );
  }
  const allocation = genesisAllocation(command.cap);
  const deltas = new Deltas();
  for (const [bucket, account] of Object.entries(GENESIS_ACCOUNTS) as [GenesisBucket, string][]) {
    deltas.move(SYSTEM_ACCOUNTS.issuance, account, allocation[bucket]);
  }
  return {
    deltas: deltas.map,
    meta: { ...meta, genesisSeq: seq, cap: command.cap, genesisTotal: command.cap },
  };
}
