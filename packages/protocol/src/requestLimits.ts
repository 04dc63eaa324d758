/**
 * Limits on what one request may ask of the bank (docs/protocol.md §Limits), governed like every
 * other parameter because they trade spam against use: a tiny transfer costs the bank a ledger
 * posting as any other does, and a job's deadline decides how long its budget stays held.
 */
export interface RequestLimitParams {
  /**
   * The furthest deadline a job may set, from its submission: its hold lasts until the deadline
   * (plus the hold's grace), so a 10-year deadline would lock the requester's DPN for 10 years.
   * 90 days covers the longest federated run the examples plan with room to spare.
   */
  readonly maxJobDeadlineMs: number;
  /**
   * The smallest transfer, in base units (10⁻¹⁸ DPN): 10¹² is 0.000001 DPN. Below it a posting
   * moves less than it costs the bank to keep; 1,000 transfers of 10⁻¹⁸ DPN were all accepted
   * before this existed.
   */
  readonly minTransferUnits: bigint;
}

const DAY_MS = 86_400_000;

export const DEFAULT_REQUEST_LIMIT_PARAMS: RequestLimitParams = {
  maxJobDeadlineMs: 90 * DAY_MS,
  minTransferUnits: 10n ** 12n,
};

/** A deadline may reach from one hour to ten years; a transfer minimum from 0 to 1 DPN. */
export const REQUEST_LIMIT_PARAM_BOUNDS: {
  readonly [K in keyof RequestLimitParams]: {
    readonly min: RequestLimitParams[K];
    readonly max: RequestLimitParams[K];
  };
} = {
  maxJobDeadlineMs: { min: 3_600_000, max: 3_650 * DAY_MS },
  minTransferUnits: { min: 0n, max: 10n ** 18n },
};
