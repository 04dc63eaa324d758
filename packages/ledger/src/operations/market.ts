import {
  AMM_MINIMUM_LIQUIDITY,
  type AmmParams,
  type AmmPool,
  addLiquidity,
  DEFAULT_AMM_PARAMS,
  removeLiquidity,
  SWAP_SIDES,
  type SwapSide,
  swap,
  validateAmmParams,
} from "@dpn/protocol";
import {
  accountKind,
  checkUserAccountId,
  isSystemAccount,
  MARKET_ACCOUNTS,
  MARKET_TREASURIES,
  SYSTEM_ACCOUNTS,
} from "../accounts.ts";
import { type AmountInput, positiveUnits, toUnits } from "../amounts.ts";
import { accountIn } from "../assets.ts";
import type {
  AddLiquidityCommand,
  DepositStableCommand,
  RemoveLiquidityCommand,
  SwapCommand,
  WithdrawStableCommand,
} from "../commands.ts";
import { checkIdempotencyKey, checkName } from "../commands.ts";
import { ledgerError } from "../errors.ts";
import type { AccountState, LedgerState, MetaState, Plan } from "../state.ts";
import { Deltas, requireAccount, requireFunds } from "./guards.ts";

/**
 * The market operations (docs/protocol.md §AMM): stable deposits and withdrawals, swaps and
 * liquidity, each one posting set. The pool's reserves are ledger balances
 * (`system:amm-pool`, `usd:system:amm-pool`), its total shares minus the balance of
 * `lp:system:issuance`, and its TWAP accumulator lives in the meta row; the pool maths is the
 * protocol's (amm.ts), never a copy of it.
 */

export interface DepositStableInput {
  readonly idempotencyKey: string;
  /** The DPN account of the holder (owner, device, or the reserve / liquidity treasury). */
  readonly to: string;
  readonly amount: AmountInput;
  /** The outside deposit credited (bridge transaction, bank reference); credited once. */
  readonly reference: string;
}

export interface WithdrawStableInput {
  readonly idempotencyKey: string;
  readonly from: string;
  readonly amount: AmountInput;
}

export interface SwapInput {
  readonly idempotencyKey: string;
  readonly trader: string;
  readonly side: SwapSide;
  /** DPN for sell-dpn, stable units for buy-dpn (bigint base units or a decimal string). */
  readonly amountIn: AmountInput;
  /** Price-impact guard in bps; default the AMM's 70 (§4.5's 0.7%). */
  readonly maxSlippageBps?: bigint | number;
  readonly minAmountOut?: AmountInput;
}

export interface AddLiquidityInput {
  readonly idempotencyKey: string;
  readonly provider: string;
  readonly dpnAmount: AmountInput;
  readonly stableAmount: AmountInput;
}

export interface RemoveLiquidityInput {
  readonly idempotencyKey: string;
  readonly provider: string;
  /** Pool shares (base units of the `lp:` asset). */
  readonly shares: AmountInput;
}

/** Owners, devices, and the system accounts that take part in the market. */
function checkMarketHolder(field: string, id: unknown): string {
  if (typeof id === "string" && isSystemAccount(id)) {
    if ((MARKET_TREASURIES as readonly string[]).includes(id)) return id;
    throw ledgerError("LEDGER_ACCOUNT_NOT_SPENDABLE", `${field} ${id} does not trade.`, {
      hint: `Use an owner or device account, or one of ${MARKET_TREASURIES.join(", ")}.`,
      details: { field, account: id },
    });
  }
  return checkUserAccountId(field, id);
}

function ammConfig(params: AmmParams): {
  ammFeeBps: bigint;
  ammSlippageBps: bigint;
  ammMaxSlippageBps: bigint;
} {
  validateAmmParams(params);
  return {
    ammFeeBps: params.feeBps,
    ammSlippageBps: params.slippageBps,
    ammMaxSlippageBps: params.maxSlippageBps,
  };
}

function paramsOf(command: {
  ammFeeBps: bigint;
  ammSlippageBps: bigint;
  ammMaxSlippageBps: bigint;
}): AmmParams {
  return {
    feeBps: command.ammFeeBps,
    slippageBps: command.ammSlippageBps,
    maxSlippageBps: command.ammMaxSlippageBps,
  };
}

function checkBps(field: string, value: unknown, max: bigint): bigint {
  const bps =
    typeof value === "number" && Number.isSafeInteger(value)
      ? BigInt(value)
      : typeof value === "bigint"
        ? value
        : -1n;
  if (bps < 0n || bps > max) {
    throw ledgerError(
      "LEDGER_INVALID_INPUT",
      `${field} must be a whole number of basis points from 0 to ${max}, got ${String(value)}.`,
      {
        hint: `70 bps is §4.5's 0.7% guard; the pool accepts at most ${max} bps.`,
        details: { field, value: String(value), max },
      },
    );
  }
  return bps;
}

export function depositStableCommand(
  input: DepositStableInput,
  atMs: number,
): DepositStableCommand {
  return {
    kind: "depositStable",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    to: checkMarketHolder("to", input.to),
    amount: positiveUnits("amount", input.amount),
    reference: checkName("reference", input.reference),
  };
}

export function withdrawStableCommand(
  input: WithdrawStableInput,
  atMs: number,
): WithdrawStableCommand {
  return {
    kind: "withdrawStable",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    from: checkMarketHolder("from", input.from),
    amount: positiveUnits("amount", input.amount),
  };
}

export function swapCommand(
  input: SwapInput,
  atMs: number,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): SwapCommand {
  if (!(SWAP_SIDES as readonly unknown[]).includes(input.side)) {
    throw ledgerError("LEDGER_INVALID_INPUT", `side ${String(input.side)} is not a swap side.`, {
      hint: `Use one of ${SWAP_SIDES.join(", ")}: sell-dpn pays DPN for stable units, buy-dpn the reverse.`,
      details: { field: "side", value: String(input.side) },
    });
  }
  const config = ammConfig(params);
  return {
    kind: "swap",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    trader: checkMarketHolder("trader", input.trader),
    side: input.side,
    amountIn: positiveUnits("amountIn", input.amountIn),
    maxSlippageBps:
      input.maxSlippageBps === undefined
        ? null
        : checkBps("maxSlippageBps", input.maxSlippageBps, params.maxSlippageBps),
    minAmountOut:
      input.minAmountOut === undefined ? null : toUnits("minAmountOut", input.minAmountOut),
    ...config,
  };
}

export function addLiquidityCommand(
  input: AddLiquidityInput,
  atMs: number,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): AddLiquidityCommand {
  return {
    kind: "addLiquidity",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    provider: checkMarketHolder("provider", input.provider),
    dpnAmount: positiveUnits("dpnAmount", input.dpnAmount),
    stableAmount: positiveUnits("stableAmount", input.stableAmount),
    ...ammConfig(params),
  };
}

export function removeLiquidityCommand(
  input: RemoveLiquidityInput,
  atMs: number,
  params: AmmParams = DEFAULT_AMM_PARAMS,
): RemoveLiquidityCommand {
  return {
    kind: "removeLiquidity",
    idempotencyKey: checkIdempotencyKey(input.idempotencyKey),
    atMs,
    provider: checkMarketHolder("provider", input.provider),
    shares: positiveUnits("shares", input.shares),
    ...ammConfig(params),
  };
}

/** Receipt ids of stable deposits share the receipts index with mints; the prefix separates them. */
export function depositReceiptId(reference: string): string {
  return `deposit:${reference}`;
}

export function planDepositStable(command: DepositStableCommand, state: LedgerState): Plan {
  requireAccount(state, "to", command.to);
  const receiptId = depositReceiptId(command.reference);
  const creditedAt = state.receiptSeq(receiptId);
  if (creditedAt !== undefined) {
    throw ledgerError(
      "LEDGER_DEPOSIT_ALREADY_CREDITED",
      `Deposit ${command.reference} was already credited by posting ${creditedAt}.`,
      {
        hint: "Each outside deposit is credited once. Retry with the original idempotency key to get that posting back.",
        details: { reference: command.reference, seq: creditedAt },
      },
    );
  }
  const to = accountIn("USD", command.to);
  return {
    deltas: new Deltas().move(MARKET_ACCOUNTS.stableIssuance, to, command.amount).map,
    receiptId,
    opens: [to],
  };
}

export function planWithdrawStable(command: WithdrawStableCommand, state: LedgerState): Plan {
  requireAccount(state, "from", command.from);
  const from = accountIn("USD", command.from);
  requireFunds(stableAccount(state, from), command.amount, "the withdrawal");
  return {
    deltas: new Deltas().move(from, MARKET_ACCOUNTS.stableIssuance, command.amount).map,
  };
}

/** The pool as the protocol's AMM sees it, read from the ledger's balances and meta. */
export function poolFromState(state: LedgerState): AmmPool {
  const meta = state.meta();
  return {
    reserveDpn: balance(state, SYSTEM_ACCOUNTS.ammPool),
    reserveStable: balance(state, MARKET_ACCOUNTS.ammPoolStable),
    totalShares: -balance(state, MARKET_ACCOUNTS.sharesIssuance),
    priceCumulative: meta.ammPriceCumulative,
    lastUpdateMs: meta.ammLastUpdateMs,
  };
}

/**
 * The pool's clock never runs backwards: group commit may order a command stamped a few ms
 * earlier after a later one, and the TWAP accumulator must not go back in time.
 */
export function poolClock(state: LedgerState, atMs: number): number {
  return Math.max(atMs, state.meta().ammLastUpdateMs);
}

function withPool(meta: MetaState, pool: AmmPool): MetaState {
  return { ...meta, ammPriceCumulative: pool.priceCumulative, ammLastUpdateMs: pool.lastUpdateMs };
}

export function planSwap(command: SwapCommand, state: LedgerState): Plan {
  requireAccount(state, "trader", command.trader);
  const stable = accountIn("USD", command.trader);
  const pool = poolFromState(state);
  const payer =
    command.side === "sell-dpn"
      ? requireAccount(state, "trader", command.trader)
      : stableAccount(state, stable);
  requireFunds(payer, command.amountIn, "the swap");
  const result = swap(
    pool,
    command.side,
    command.amountIn,
    {
      nowMs: poolClock(state, command.atMs),
      ...(command.maxSlippageBps === null ? {} : { maxSlippageBps: command.maxSlippageBps }),
      ...(command.minAmountOut === null ? {} : { minAmountOut: command.minAmountOut }),
    },
    paramsOf(command),
  );
  const out = result.quote.amountOut;
  const deltas =
    command.side === "sell-dpn"
      ? new Deltas()
          .move(command.trader, SYSTEM_ACCOUNTS.ammPool, command.amountIn)
          .move(MARKET_ACCOUNTS.ammPoolStable, stable, out)
      : new Deltas()
          .move(stable, MARKET_ACCOUNTS.ammPoolStable, command.amountIn)
          .move(SYSTEM_ACCOUNTS.ammPool, command.trader, out);
  return { deltas: deltas.map, meta: withPool(state.meta(), result.pool), opens: [stable] };
}

export function planAddLiquidity(command: AddLiquidityCommand, state: LedgerState): Plan {
  const provider = requireAccount(state, "provider", command.provider);
  const stable = accountIn("USD", command.provider);
  const shares = accountIn("LP", command.provider);
  requireFunds(provider, command.dpnAmount, "the deposit");
  requireFunds(stableAccount(state, stable), command.stableAmount, "the deposit");
  const pool = poolFromState(state);
  const result = addLiquidity(
    pool,
    command.dpnAmount,
    command.stableAmount,
    poolClock(state, command.atMs),
  );
  const deltas = new Deltas()
    .move(command.provider, SYSTEM_ACCOUNTS.ammPool, result.dpnUsed)
    .move(stable, MARKET_ACCOUNTS.ammPoolStable, result.stableUsed)
    .move(MARKET_ACCOUNTS.sharesIssuance, shares, result.shares);
  if (pool.totalShares === 0n) {
    deltas.move(
      MARKET_ACCOUNTS.sharesIssuance,
      MARKET_ACCOUNTS.sharesLocked,
      AMM_MINIMUM_LIQUIDITY,
    );
  }
  return { deltas: deltas.map, meta: withPool(state.meta(), result.pool), opens: [stable, shares] };
}

export function planRemoveLiquidity(command: RemoveLiquidityCommand, state: LedgerState): Plan {
  requireAccount(state, "provider", command.provider);
  const stable = accountIn("USD", command.provider);
  const shares = accountIn("LP", command.provider);
  requireFunds(stableAccount(state, shares), command.shares, "the withdrawal of liquidity");
  const result = removeLiquidity(
    poolFromState(state),
    command.shares,
    poolClock(state, command.atMs),
  );
  const deltas = new Deltas()
    .move(shares, MARKET_ACCOUNTS.sharesIssuance, command.shares)
    .move(SYSTEM_ACCOUNTS.ammPool, command.provider, result.dpnOut)
    .move(MARKET_ACCOUNTS.ammPoolStable, stable, result.stableOut);
  return { deltas: deltas.map, meta: withPool(state.meta(), result.pool), opens: [stable] };
}

function balance(state: LedgerState, id: string): bigint {
  return state.account(id)?.balance ?? 0n;
}

/** A stable or share account that may not exist yet: it then holds nothing. */
function stableAccount(state: LedgerState, id: string): AccountState {
  return (
    state.account(id) ?? {
      id,
      kind: accountKind(id),
      balance: 0n,
      openedAtMs: 0,
      updatedAtMs: 0,
      lastSeq: 0,
    }
  );
}
