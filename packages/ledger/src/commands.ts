import { ledgerError } from "./errors.ts";

/**
 * A command is one validated ledger operation, as data. The facade (`ledger.ts`) builds it from
 * caller input; a store executes it in a batch (`batch.ts`); the planner of its kind
 * (`operations/*.ts`) turns it into a balanced posting set. Commands carry their time (`atMs`):
 * nothing below the facade reads a clock.
 */
interface Keyed {
  readonly idempotencyKey: string;
  readonly atMs: number;
}

export interface OpenAccountCommand {
  readonly kind: "openAccount";
  readonly account: string;
  readonly atMs: number;
}
export interface GenesisCommand extends Keyed {
  readonly kind: "genesis";
  readonly cap: bigint;
}
export interface MintCommand extends Keyed {
  readonly kind: "mint";
  readonly to: string;
  readonly amount: bigint;
  readonly receiptId: string;
}
export interface BurnCommand extends Keyed {
  readonly kind: "burn";
  readonly from: string;
  readonly amount: bigint;
}
export interface TransferCommand extends Keyed {
  readonly kind: "transfer";
  readonly from: string;
  readonly to: string;
  readonly amount: bigint;
  readonly fee: bigint;
}
export interface PlaceHoldCommand extends Keyed {
  readonly kind: "placeHold";
  readonly holdId: string;
  readonly from: string;
  readonly amount: bigint;
  readonly expiresAtMs: number;
}
export interface CaptureHoldCommand extends Keyed {
  readonly kind: "captureHold";
  readonly holdId: string;
  readonly to: string;
  /** null: capture everything held. */
  readonly amount: bigint | null;
}
export interface CapturePaymentCommand extends Keyed {
  readonly kind: "capturePayment";
  readonly holdId: string;
  /** null: the whole hold is the payment. */
  readonly amount: bigint | null;
  readonly burnBps: bigint;
  readonly antiMonopolyFundBps: bigint;
}
export interface ReleaseHoldCommand extends Keyed {
  readonly kind: "releaseHold";
  readonly holdId: string;
}
export interface ExpireHoldCommand extends Keyed {
  readonly kind: "expireHold";
  readonly holdId: string;
}
export interface StakeCommand extends Keyed {
  readonly kind: "stake";
  readonly account: string;
  readonly amount: bigint;
}
export interface UnstakeCommand extends Keyed {
  readonly kind: "unstake";
  readonly account: string;
  readonly amount: bigint;
  /** Ledger configuration, not caller content: excluded from the idempotency comparison. */
  readonly unbondingMs: number;
}
export interface WithdrawUnbondedCommand extends Keyed {
  readonly kind: "withdrawUnbonded";
  readonly account: string;
}
export interface SlashCommand extends Keyed {
  readonly kind: "slash";
  readonly account: string;
  readonly amount: bigint;
  /** Where slashed stake goes: the burn sink by default, or a treasury account. */
  readonly to: string;
}
export interface ReplenishEmissionCommand extends Keyed {
  readonly kind: "replenishEmission";
  readonly recycleBps: bigint;
}

export interface DepositStableCommand extends Keyed {
  readonly kind: "depositStable";
  /** The DPN account of the holder; the units land in its `usd:` account. */
  readonly to: string;
  readonly amount: bigint;
  /** The outside deposit this credits (a bridge transaction, a bank reference); paid once. */
  readonly reference: string;
}
export interface WithdrawStableCommand extends Keyed {
  readonly kind: "withdrawStable";
  readonly from: string;
  readonly amount: bigint;
}
/** AMM configuration, not caller content (see NOT_CONTENT). */
interface AmmConfig {
  readonly ammFeeBps: bigint;
  readonly ammSlippageBps: bigint;
  readonly ammMaxSlippageBps: bigint;
}
export interface SwapCommand extends Keyed, AmmConfig {
  readonly kind: "swap";
  /** The DPN account of the trader; stable moves through its `usd:` account. */
  readonly trader: string;
  readonly side: "sell-dpn" | "buy-dpn";
  readonly amountIn: bigint;
  /** null: the AMM's default guard (0.7%, §4.5). */
  readonly maxSlippageBps: bigint | null;
  readonly minAmountOut: bigint | null;
}
export interface AddLiquidityCommand extends Keyed, AmmConfig {
  readonly kind: "addLiquidity";
  readonly provider: string;
  readonly dpnAmount: bigint;
  readonly stableAmount: bigint;
}
export interface RemoveLiquidityCommand extends Keyed, AmmConfig {
  readonly kind: "removeLiquidity";
  readonly provider: string;
  readonly shares: bigint;
}

export type PostingCommand =
  | GenesisCommand
  | MintCommand
  | BurnCommand
  | TransferCommand
  | PlaceHoldCommand
  | CaptureHoldCommand
  | CapturePaymentCommand
  | ReleaseHoldCommand
  | ExpireHoldCommand
  | StakeCommand
  | UnstakeCommand
  | WithdrawUnbondedCommand
  | SlashCommand
  | ReplenishEmissionCommand
  | DepositStableCommand
  | WithdrawStableCommand
  | SwapCommand
  | AddLiquidityCommand
  | RemoveLiquidityCommand;

export type Command = OpenAccountCommand | PostingCommand;
export type PostingKind = PostingCommand["kind"];

export const POSTING_KINDS: readonly PostingKind[] = [
  "genesis",
  "mint",
  "burn",
  "transfer",
  "placeHold",
  "captureHold",
  "capturePayment",
  "releaseHold",
  "expireHold",
  "stake",
  "unstake",
  "withdrawUnbonded",
  "slash",
  "replenishEmission",
  "depositStable",
  "withdrawStable",
  "swap",
  "addLiquidity",
  "removeLiquidity",
];

/** Fields that are not part of what the caller asked for, so a retry may differ in them. */
const NOT_CONTENT = new Set([
  "atMs",
  "idempotencyKey",
  "unbondingMs",
  "ammFeeBps",
  "ammSlippageBps",
  "ammMaxSlippageBps",
]);

/**
 * The canonical content of a command: JSON with sorted keys, bigints as decimal strings, without
 * time and configuration. Stored with the posting; a retry with the same idempotency key must
 * have byte-identical content or it is rejected with LEDGER_IDEMPOTENCY_CONFLICT.
 */
export function commandContent(command: PostingCommand): string {
  const fields: Record<string, string | number | null> = {};
  for (const key of Object.keys(command).sort()) {
    if (NOT_CONTENT.has(key)) continue;
    const value = (command as unknown as Record<string, unknown>)[key];
    fields[key] = typeof value === "bigint" ? value.toString() : (value as string | number | null);
  }
  return JSON.stringify(fields);
}

/**
 * 128 characters: room for a UUID or a hash with a prefix (`mint:<receipt sha256>`), bounded so
 * the unique index stays small.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;
const PRINTABLE = /^[\x21-\x7e]+$/;

export function checkIdempotencyKey(key: unknown): string {
  if (typeof key !== "string" || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE.test(key)) {
    throw ledgerError(
      "LEDGER_INVALID_IDEMPOTENCY_KEY",
      `idempotencyKey ${typeof key === "string" ? JSON.stringify(key) : String(key)} is not valid.`,
      {
        hint: `Pass a unique string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces, for example a UUID; reuse it only to retry the same operation.`,
        details: { field: "idempotencyKey" },
      },
    );
  }
  return key;
}

/** A name chosen by the caller (hold ids, receipt ids): same alphabet as idempotency keys. */
export function checkName(field: string, value: unknown): string {
  if (
    typeof value !== "string" ||
    value.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
    !PRINTABLE.test(value)
  ) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `${field} must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters.`,
      {
        hint: `Use an id such as a job id or a receipt hash, without spaces.`,
        details: { field, value: typeof value === "string" ? value : String(value) },
      },
    );
  }
  return value;
}

/** A time in milliseconds since the epoch, as the caller's clock gave it. */
export function checkTimeMs(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `${field} must be a whole number of milliseconds >= 0, got ${String(value)}.`,
      {
        hint: "Pass times as integer milliseconds since 1970 (Date.now() style).",
        details: { field, value: String(value) },
      },
    );
  }
  return value;
}

/** A count or sequence number: a safe integer >= 0. */
export function checkWholeNumber(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `${field} must be a whole number >= 0, got ${String(value)}.`,
      {
        hint: `Pass ${field} as a non-negative integer.`,
        details: { field, value: String(value) },
      },
    );
  }
  return value;
}

export function checkBps(field: string, value: unknown): bigint {
  if (typeof value !== "bigint" || value < 0n || value > 10_000n) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `${field} must be a bigint in [0n, 10000n] basis points, got ${String(value)}.`,
      {
        hint: "Basis points: 10000n is 100%, 300n is 3%.",
        details: { field, value: String(value) },
      },
    );
  }
  return value;
}
