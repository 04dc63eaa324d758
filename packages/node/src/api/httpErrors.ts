import { isDpnError } from "@dpn/protocol";

/**
 * HTTP status of each error code (docs/protocol.md §Errors): the JSON body always carries the
 * code, message and hint, so clients match on the code, never on the status alone.
 */
const STATUS_BY_CODE: ReadonlyArray<[RegExp, number]> = [
  [/^ENVELOPE_(BAD_SIGNATURE)$|^IDENTITY_INVALID$/, 401],
  [/^LEDGER_INSUFFICIENT_FUNDS$/, 402],
  [/^JOB_NOT_YOURS$/, 403],
  [/_NOT_FOUND$|^LEDGER_UNKNOWN_ACCOUNT$/, 404],
  [/^ENVELOPE_REPLAYED$|_REUSED$|_CONFLICT$|^LEDGER_IDEMPOTENCY/, 409],
  // The price moved past the caller's guard: retrying later or wider may succeed.
  [/^AMM_SLIPPAGE_EXCEEDED$|^LEDGER_DEPOSIT_ALREADY_CREDITED$/, 409],
  [/^ARTIFACT_TOO_LARGE$|^ENVELOPE_TOO_LARGE$/, 413],
  [/^NODE_OVERLOADED$/, 503],
  [/_INVARIANT_VIOLATED$|^LEDGER_INVARIANT_BROKEN$/, 500],
];

export function statusOf(error: unknown): number {
  if (!isDpnError(error)) return 500;
  for (const [pattern, status] of STATUS_BY_CODE) if (pattern.test(error.code)) return status;
  return 400;
}
