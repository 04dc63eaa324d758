/**
 * The one error type of DPN. Every failure a user can cause carries a stable `code` that
 * programs match on, a message that says what happened, and a hint that says what to do.
 * Codes never change meaning once released; add new ones instead.
 */
export interface DpnErrorOptions {
  /** What the user should do about it. Appended to the message. */
  readonly hint?: string;
  /** Machine-readable context (offending value, limit). Bigints are rendered as strings in JSON. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

/**
 * The registered codes. Each package's errors.ts adds its table's codes by declaration merging
 * (`interface DpnErrorCodes extends CodesOf<typeof LEDGER_ERRORS> {}` in a `declare module
 * "@dpn/protocol"` block), so a DpnError with an unregistered code does not compile.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging, package by package
export interface DpnErrorCodes {}
export type DpnErrorCode = keyof DpnErrorCodes & string;
/** The shape a table contributes to DpnErrorCodes: one key per code. */
export type CodesOf<T> = { readonly [K in keyof T]: true };

export class DpnError extends Error {
  override readonly name = "DpnError";
  readonly code: string;
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: DpnErrorCode, message: string, options: DpnErrorOptions = {}) {
    super(options.hint === undefined ? message : `${message} ${options.hint}`, {
      cause: options.cause,
    });
    this.code = code;
    this.shortMessage = message;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /**
   * An error whose code comes from elsewhere, such as a node's answer read by a client: it is
   * not checked against this program's registry.
   */
  static received(code: string, message: string, options: DpnErrorOptions = {}): DpnError {
    return new DpnError(code as DpnErrorCode, message, options);
  }

  /** The shape the HTTP API and `--json` output use. */
  toJSON(): { code: string; message: string; hint?: string; details: Record<string, unknown> } {
    const details: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.details)) {
      details[key] = typeof value === "bigint" ? value.toString() : value;
    }
    return this.hint === undefined
      ? { code: this.code, message: this.shortMessage, details }
      : { code: this.code, message: this.shortMessage, hint: this.hint, details };
  }
}

export function isDpnError(value: unknown, code?: string): value is DpnError {
  return value instanceof DpnError && (code === undefined || value.code === code);
}

/**
 * One code of a package's error table (each package's errors.ts): the HTTP status the node
 * answers with when a request meets it, and one line saying what it means. docs/errors.md is
 * generated from the tables (npm run docs:errors).
 */
export interface ErrorSpec {
  readonly status: number;
  readonly meaning: string;
}

export interface ErrorEntry<C extends string = string> extends ErrorSpec {
  readonly code: C;
  /** Where the code is explained: docs/errors.md, one heading per code. */
  readonly docs: string;
}

export type ErrorTable<C extends string = string> = { readonly [K in C]: ErrorEntry<K> };

/** The docs anchor of a code (a heading's anchor is its text in lower case). */
export function errorDocs(code: string): string {
  return `docs/errors.md#${code.toLowerCase()}`;
}

/** Builds a package's table: each entry gains its code and docs anchor. */
export function errorTable<const T extends Record<string, ErrorSpec>>(
  specs: T,
): ErrorTable<keyof T & string> {
  const table: Record<string, ErrorEntry> = {};
  for (const [code, spec] of Object.entries(specs)) {
    table[code] = { code, status: spec.status, meaning: spec.meaning, docs: errorDocs(code) };
  }
  return table as ErrorTable<keyof T & string>;
}

/** The protocol core's codes: its formulas, parameters and the market maths. */
export const PROTOCOL_ERRORS = errorTable({
  AMM_INSUFFICIENT_LIQUIDITY: {
    status: 400,
    meaning: "The pool holds too little to pay this trade or withdrawal.",
  },
  AMM_INSUFFICIENT_OUTPUT: {
    status: 400,
    meaning: "The trade would pay out nothing, or less than the caller's minAmountOut.",
  },
  AMM_INSUFFICIENT_SHARES: {
    status: 400,
    meaning: "The provider holds fewer pool shares than it asked to burn.",
  },
  AMM_INVALID_INPUT: {
    status: 400,
    meaning: "An AMM amount or parameter is malformed or out of range.",
  },
  AMM_INVARIANT_VIOLATED: {
    status: 500,
    meaning: "The pool's constant-product invariant would break: a bug, never a bad request.",
  },
  AMM_SLIPPAGE_EXCEEDED: {
    status: 409,
    meaning:
      "The price moved past the caller's slippage guard; retrying later or with a wider guard may succeed.",
  },
  AMOUNT_INVALID: {
    status: 400,
    meaning: 'A DPN amount is not a decimal string such as "12.5".',
  },
  AMOUNT_OUT_OF_RANGE: {
    status: 400,
    meaning: "A DPN amount is negative or above the supply cap.",
  },
  AMOUNT_TOO_PRECISE: {
    status: 400,
    meaning: "A DPN amount has more than 18 decimals.",
  },
  DP_BUDGET_EXCEEDED: {
    status: 400,
    meaning: "The differential-privacy budget (epsilon) of the data is spent.",
  },
  DP_INVALID_BUDGET: {
    status: 400,
    meaning: "A privacy budget is not a positive, finite epsilon.",
  },
  DP_INVALID_DELTA: {
    status: 400,
    meaning: "A privacy delta is outside (0, 1).",
  },
  DP_INVALID_EPSILON: {
    status: 400,
    meaning: "A privacy epsilon is not positive and finite.",
  },
  DP_INVALID_PARAMS: {
    status: 400,
    meaning: "Differential-privacy parameters are inconsistent.",
  },
  DP_INVALID_SENSITIVITY: {
    status: 400,
    meaning: "A query's sensitivity is not positive and finite.",
  },
  DP_RNG_DEGENERATE: {
    status: 500,
    meaning: "The noise generator returned a value it must never return: a bug.",
  },
  EV_REWARD_INVALID_PARAMS: {
    status: 400,
    meaning: "The electric-vehicle reward parameters are out of bounds.",
  },
  FUTURES_INSUFFICIENT_MARGIN: {
    status: 400,
    meaning: "The position's margin does not cover the required maintenance margin.",
  },
  FUTURES_INVALID_CONTRACT: {
    status: 400,
    meaning: "A futures contract's terms are malformed or out of bounds.",
  },
  FUTURES_INVALID_INPUT: {
    status: 400,
    meaning: "A futures amount, price or size is malformed or out of range.",
  },
  FUTURES_STALE_PRICE: {
    status: 400,
    meaning: "The mark price is older than the contract allows.",
  },
  GOVERNANCE_DUPLICATE_APPROVAL: {
    status: 400,
    meaning: "A committee member approved the same action twice.",
  },
  GOVERNANCE_DUPLICATE_VOTER: {
    status: 400,
    meaning: "A voter appears twice in one tally.",
  },
  GOVERNANCE_INVALID_COMMITTEE: {
    status: 400,
    meaning: "The emergency committee is not a valid set of members and threshold.",
  },
  GOVERNANCE_INVALID_PARAMS: {
    status: 400,
    meaning: "Governance parameters are out of bounds.",
  },
  GOVERNANCE_INVALID_VOTER: {
    status: 400,
    meaning: "A voter's record (stake, reputation, age) is malformed.",
  },
  GOVERNANCE_INVALID_WEIGHT: {
    status: 400,
    meaning: "A voting weight is negative or not finite.",
  },
  GOVERNANCE_LEVEL_CLOSED: {
    status: 400,
    meaning: "The proposal's level takes no more votes.",
  },
  GOVERNANCE_NO_ELIGIBLE_WEIGHT: {
    status: 400,
    meaning: "No eligible voting weight exists, so no quorum can be reached.",
  },
  GOVERNANCE_TOO_MANY_VOTERS: {
    status: 400,
    meaning: "A tally has more voters than the bound.",
  },
  GOVERNANCE_WEIGHT_EXCEEDS_ELIGIBLE: {
    status: 400,
    meaning: "The votes cast weigh more than the eligible weight: inconsistent inputs.",
  },
  ORACLE_DUPLICATE_FEED: {
    status: 400,
    meaning: "A feed reported twice in one oracle round.",
  },
  ORACLE_INSUFFICIENT_FEEDS: {
    status: 400,
    meaning: "Too few oracle feeds are live to publish a price.",
  },
  ORACLE_NO_FEEDS: {
    status: 400,
    meaning: "An oracle round was given no readings.",
  },
  ORACLE_TOO_MANY_FEEDS: {
    status: 400,
    meaning: "An oracle round has more feeds than the bound.",
  },
  PARAMS_OUT_OF_BOUNDS: {
    status: 400,
    meaning: "A governed parameter is outside its allowed range.",
  },
  PARAMS_UNKNOWN: {
    status: 400,
    meaning: "There is no governed parameter of that name.",
  },
  PROTOCOL_INVALID_GEOHASH: {
    status: 400,
    meaning: "A location is not a valid geohash.",
  },
  PROTOCOL_INVALID_INPUT: {
    status: 400,
    meaning:
      "A protocol formula was given a value outside its domain (negative, not finite, wrong type).",
  },
  PROTOCOL_QUORUM_INVALID: {
    status: 400,
    meaning: "Quorum parameters (replicas, agreement) are inconsistent.",
  },
  PROTOCOL_TOO_MANY_CANDIDATES: {
    status: 400,
    meaning: "An assignment was given more candidate devices than the bound.",
  },
  PROTOCOL_UNKNOWN_DEVICE_CLASS: {
    status: 400,
    meaning: "A device class is not one of the seven classes.",
  },
  PROTOCOL_UNKNOWN_TASK_TYPE: {
    status: 400,
    meaning: "A task type is not one of the protocol's types.",
  },
  RATE_OUT_OF_RANGE: {
    status: 400,
    meaning: "The exchange rate's inputs would overflow or make it non-positive.",
  },
  SCHEDULER_NO_ELIGIBLE_DEVICES: {
    status: 400,
    meaning: "No connected device can take the job's tasks now.",
  },
  SUPPLY_CAP_EXCEEDED: {
    status: 400,
    meaning: "Issuing this would take the supply above the 1B DPN cap.",
  },
});

export interface DpnErrorCodes extends CodesOf<typeof PROTOCOL_ERRORS> {}
