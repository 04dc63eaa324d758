import { BPS_DENOMINATOR, checkAmount, dpnFromNumber, ONE_DPN } from "./amount.ts";
import { DpnError, type DpnErrorCode } from "./errors.ts";
import { checkBounds, oneOf } from "./validate.ts";

/**
 * Compute futures (docs/protocol.md §Compute futures). §4.5: "3/6/12-month standardized
 * contracts", "Pricing by the Black-Scholes modified model", "Initial margin rate of 15%,
 * maintenance margin rate of 10%", "Margin = V × (1 + σ√T)", "Chainlink feeds the price hourly,
 * triggering a strong-liquidation line of 8%", "ΔP > 5% ⇒ Margin Call".
 *
 * The underlying is the DPN price in the stable unit (the AMM's quote asset); contracts are
 * linear and stable-margined: quantity in DPN base units, margin and P&L in stable base units
 * (18 decimals). Prices and volatility are floats (model quantities); every amount is a bigint,
 * computed from exact integer products and rounded once, against the position holder.
 */

export const FUTURES_INVALID_INPUT = "FUTURES_INVALID_INPUT";
/** Unknown cycle, or a contract that is not open for trading at the given time. */
export const FUTURES_INVALID_CONTRACT = "FUTURES_INVALID_CONTRACT";
/** The posted margin is below the initial requirement. */
export const FUTURES_INSUFFICIENT_MARGIN = "FUTURES_INSUFFICIENT_MARGIN";
/** The mark price is older than params.maxPriceAgeMs. */
export const FUTURES_STALE_PRICE = "FUTURES_STALE_PRICE";

/** Years are 365 days (ACT/365), the convention volatilities are quoted in. */
export const FUTURES_YEAR_MS = 31_536_000_000;
/** Volatility above 500% a year is not a market a margin formula can protect; reject it. */
export const FUTURES_MAX_VOLATILITY = 5;
/** Twice the longest contract: room for governance to list longer cycles without new code. */
export const FUTURES_MAX_YEARS = 2;
/** |rate| and |convenience yield| above 100% a year are input errors, not markets. */
export const FUTURES_MAX_ABS_RATE = 1;
/** Keeps price × 10^18 × quantity and every float ratio far from overflow. */
export const FUTURES_MAX_PRICE = 1e15;

export type FuturesCycle = "3m" | "6m" | "12m";
export const FUTURES_CYCLES: readonly FuturesCycle[] = ["3m", "6m", "12m"];

export interface FuturesContractSpec {
  readonly cycle: FuturesCycle;
  readonly months: number;
  /** months × FUTURES_YEAR_MS / 12, so a 3-month contract is exactly T = 0.25 years at listing. */
  readonly durationMs: number;
}

/** §4.5: "3/6/12-month standardized contracts". */
export const FUTURES_CONTRACT_SPECS: Readonly<Record<FuturesCycle, FuturesContractSpec>> = {
  "3m": { cycle: "3m", months: 3, durationMs: (3 * FUTURES_YEAR_MS) / 12 },
  "6m": { cycle: "6m", months: 6, durationMs: (6 * FUTURES_YEAR_MS) / 12 },
  "12m": { cycle: "12m", months: 12, durationMs: FUTURES_YEAR_MS },
};

export interface FuturesContract {
  readonly cycle: FuturesCycle;
  readonly listedMs: number;
  readonly expiryMs: number;
}

export interface FuturesParams {
  /** §4.5 "initial margin rate of 15%", before the volatility factor. */
  readonly initialMarginBps: bigint;
  /** §4.5 "maintenance margin rate of 10%", before the volatility factor. */
  readonly maintenanceMarginBps: bigint;
  /** §4.5 "strong-liquidation line of 8%": liquidate when equity < 8% of notional. */
  readonly liquidationBps: bigint;
  /** §4.5 "Chainlink feeds the price hourly": one interval plus 5 minutes of grace. */
  readonly maxPriceAgeMs: number;
}

export const DEFAULT_FUTURES_PARAMS: FuturesParams = {
  initialMarginBps: 1_500n,
  maintenanceMarginBps: 1_000n,
  liquidationBps: 800n,
  maxPriceAgeMs: 3_900_000,
};

/**
 * Governance bounds (inclusive), plus liquidation < maintenance < initial. Below 1% a
 * liquidation cannot complete before an hourly price move eats the rest of the equity; above
 * 50% the product is no longer leveraged.
 */
export const FUTURES_PARAM_BOUNDS: {
  readonly [K in keyof FuturesParams]: {
    readonly min: FuturesParams[K];
    readonly max: FuturesParams[K];
  };
} = {
  initialMarginBps: { min: 300n, max: 5_000n },
  maintenanceMarginBps: { min: 200n, max: 5_000n },
  liquidationBps: { min: 100n, max: 5_000n },
  maxPriceAgeMs: { min: 60_000, max: 86_400_000 },
};

export type PositionSide = "long" | "short";
export const POSITION_SIDES: readonly PositionSide[] = ["long", "short"];

export interface FuturesPosition {
  readonly contract: FuturesContract;
  readonly side: PositionSide;
  /** DPN base units. */
  readonly quantity: bigint;
  /** Stable per DPN × 10^18, i.e. stable base units per whole DPN; fixed at open. */
  readonly entryPrice: bigint;
  /** Collateral in stable base units. */
  readonly margin: bigint;
  readonly openedMs: number;
}

export interface MarkPrice {
  /** Stable per DPN, as the oracle reports it. */
  readonly price: number;
  /** When the oracle observed it. */
  readonly observedMs: number;
}

export type PositionStatus = "healthy" | "margin-call" | "liquidate";

export interface PositionMark {
  /** Stable per DPN × 10^18, floored. */
  readonly markPrice: bigint;
  readonly yearsToExpiry: number;
  /** quantity × markPrice in stable base units, floored. */
  readonly notional: bigint;
  /** Signed: side × quantity × (mark − entry), floored toward −∞. */
  readonly unrealizedPnl: bigint;
  /** Signed: margin + unrealizedPnl; negative means bad debt. */
  readonly equity: bigint;
  /** equity / notional, exact ratio as a float (may be negative). */
  readonly equityRatio: number;
  readonly requiredInitial: bigint;
  readonly requiredMaintenance: bigint;
  /** liquidationBps × notional, rounded up. */
  readonly liquidationLine: bigint;
  readonly status: PositionStatus;
  /** Margin to add to get back to requiredInitial (0 when already there). */
  readonly topUpToInitial: bigint;
}

const S = ONE_DPN;
const BPS = BPS_DENOMINATOR;

function invalid(
  field: string,
  value: unknown,
  expected: string,
  code: DpnErrorCode = FUTURES_INVALID_INPUT,
): never {
  throw new DpnError(code, `${field} must be ${expected}, got ${String(value)}.`, {
    hint: `Pass a valid ${field}.`,
    details: { field, value: typeof value === "bigint" ? value : String(value) },
  });
}

function numberIn(field: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    invalid(field, value, `a number in [${min}, ${max}]`);
  }
  return value;
}

function priceArg(field: string, value: number): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > FUTURES_MAX_PRICE
  ) {
    invalid(field, value, `a price in (0, ${FUTURES_MAX_PRICE}]`);
  }
  return value;
}

function timeArg(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) invalid(field, value, "a whole number of ms >= 0");
  return value;
}

function amountArg(field: string, value: bigint, min = 0n): bigint {
  if (typeof value !== "bigint" || value < min) invalid(field, value, `a bigint amount >= ${min}`);
  return checkAmount(field, value);
}

/** Checks governance parameters against FUTURES_PARAM_BOUNDS (docs/protocol.md §Compute futures). */
export function validateFuturesParams(params: FuturesParams): FuturesParams {
  checkBounds(params, FUTURES_PARAM_BOUNDS, FUTURES_INVALID_INPUT, "Futures");
  if (!Number.isSafeInteger(params.maxPriceAgeMs)) {
    invalid("params.maxPriceAgeMs", params.maxPriceAgeMs, "a whole number of ms");
  }
  if (
    !(
      params.liquidationBps < params.maintenanceMarginBps &&
      params.maintenanceMarginBps < params.initialMarginBps
    )
  ) {
    throw new DpnError(
      FUTURES_INVALID_INPUT,
      "Margin rates must satisfy liquidation < maintenance < initial.",
      {
        hint: "Otherwise a position could be liquidated before its margin call, or called at open.",
        details: {
          liquidationBps: params.liquidationBps,
          maintenanceMarginBps: params.maintenanceMarginBps,
          initialMarginBps: params.initialMarginBps,
        },
      },
    );
  }
  return params;
}

/**
 * Lists a standardised contract: it trades from `listedMs` until `listedMs + durationMs`
 * (docs/protocol.md §Compute futures).
 */
export function listContract(cycle: FuturesCycle, listedMs: number): FuturesContract {
  oneOf("cycle", cycle, FUTURES_CYCLES, FUTURES_INVALID_CONTRACT);
  timeArg("listedMs", listedMs);
  const expiryMs = listedMs + FUTURES_CONTRACT_SPECS[cycle].durationMs;
  if (!Number.isSafeInteger(expiryMs))
    invalid("listedMs", listedMs, "early enough that expiry is a safe integer");
  return { cycle, listedMs, expiryMs };
}

function checkContract(contract: FuturesContract): FuturesContract {
  oneOf("contract.cycle", contract.cycle, FUTURES_CYCLES, FUTURES_INVALID_CONTRACT);
  timeArg("contract.listedMs", contract.listedMs);
  timeArg("contract.expiryMs", contract.expiryMs);
  if (contract.expiryMs !== contract.listedMs + FUTURES_CONTRACT_SPECS[contract.cycle].durationMs) {
    invalid(
      "contract.expiryMs",
      contract.expiryMs,
      "listedMs + the cycle's durationMs",
      FUTURES_INVALID_CONTRACT,
    );
  }
  return contract;
}

/**
 * T in the margin and pricing formulas: years from `nowMs` to expiry, 0 at or after expiry
 * (docs/protocol.md §Compute futures).
 */
export function yearsToExpiry(contract: FuturesContract, nowMs: number): number {
  checkContract(contract);
  timeArg("nowMs", nowMs);
  return nowMs >= contract.expiryMs ? 0 : (contract.expiryMs - nowMs) / FUTURES_YEAR_MS;
}

/**
 * The requirement rate as an exact fraction numerator / (10^4 · 10^18):
 * min(rateBps × (1 + σ√T), 100%). The factor becomes 18-decimal fixed point through
 * dpnFromNumber (exact for a double of that size); the cap keeps a requirement from exceeding
 * the notional, which also keeps status monotone in price for longs.
 */
function rateNumerator(rateBps: bigint, sigma: number, years: number): bigint {
  const factor = dpnFromNumber(1 + sigma * Math.sqrt(years));
  const numerator = rateBps * factor;
  return minAmount(numerator, BPS * S);
}

function checkSigmaYears(sigma: number, years: number): void {
  numberIn("sigma", sigma, 0, FUTURES_MAX_VOLATILITY);
  numberIn("years", years, 0, FUTURES_MAX_YEARS);
}

/**
 * Required margin = ceil(notional × min(rate × (1 + σ√T), 1)) in stable base units, σ the
 * annualised volatility and T the years to expiry: our reading of §4.5's "Margin = V × (1 + σ√T)"
 * (docs/protocol.md §Compute futures).
 */
export function requiredMargin(
  notional: bigint,
  rateBps: bigint,
  sigma: number,
  years: number,
): bigint {
  amountArg("notional", notional);
  if (typeof rateBps !== "bigint" || rateBps < 0n || rateBps > BPS)
    invalid("rateBps", rateBps, "a bigint in [0, 10000]");
  checkSigmaYears(sigma, years);
  return ceilDiv(notional * rateNumerator(rateBps, sigma, years), BPS * S);
}

/**
 * Cost-of-carry fair futures price F = S·e^{(r − y)T} (docs/protocol.md §Compute futures), with r
 * the continuously compounded risk-free rate and y the convenience yield of holding DPN (compute
 * that can be redeemed now), both per year.
 */
export function futuresPrice(
  spot: number,
  rate: number,
  convenienceYield: number,
  years: number,
): number {
  priceArg("spot", spot);
  numberIn("rate", rate, -FUTURES_MAX_ABS_RATE, FUTURES_MAX_ABS_RATE);
  numberIn("convenienceYield", convenienceYield, -FUTURES_MAX_ABS_RATE, FUTURES_MAX_ABS_RATE);
  numberIn("years", years, 0, FUTURES_MAX_YEARS);
  return spot * Math.exp((rate - convenienceYield) * years);
}

/**
 * erfc(z) for z >= 0 by the Chebyshev fit of Numerical Recipes in C (2nd ed., §6.2, `erfcc`):
 * fractional error below 1.2e-7 everywhere, so tails stay accurate relative to their size.
 */
function erfcNonNegative(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t *
                          (-1.13520398 +
                            t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-z * z + poly);
}

/**
 * Standard normal CDF N(x) (docs/protocol.md §Compute futures), absolute error < 6e-8. Built
 * so that N(x) + N(−x) = 1 exactly up to float rounding, which is what makes Black-76
 * put–call parity hold to machine precision despite the approximation.
 */
export function normalCdf(x: number): number {
  if (typeof x !== "number" || Number.isNaN(x)) invalid("x", x, "a number");
  const half = 0.5 * erfcNonNegative(Math.abs(x) / Math.SQRT2);
  return x >= 0 ? 1 - half : half;
}

export interface Black76Input {
  /** F, stable per DPN. */
  readonly futuresPrice: number;
  /** K, stable per DPN. */
  readonly strike: number;
  /** Annualised volatility of F. */
  readonly sigma: number;
  readonly years: number;
  /** Continuously compounded discount rate per year. */
  readonly rate: number;
}

/**
 * Black-76 prices of European options on a futures price: §4.5's "Black-Scholes modified
 * model" (docs/protocol.md §Compute futures). C = e^{−rT}[F·N(d1) − K·N(d2)],
 * P = e^{−rT}[K·N(−d2) − F·N(−d1)]; with σ = 0 or T = 0 both are the discounted intrinsic
 * values. Results are clamped to the no-arbitrage bounds so approximation error can never
 * produce a negative premium.
 */
export function black76(input: Black76Input): { call: number; put: number } {
  const f = priceArg("futuresPrice", input.futuresPrice);
  const k = priceArg("strike", input.strike);
  checkSigmaYears(input.sigma, input.years);
  numberIn("rate", input.rate, -FUTURES_MAX_ABS_RATE, FUTURES_MAX_ABS_RATE);
  const discount = Math.exp(-input.rate * input.years);
  const sd = input.sigma * Math.sqrt(input.years);
  if (sd === 0) {
    return { call: discount * Math.max(f - k, 0), put: discount * Math.max(k - f, 0) };
  }
  const d1 = (Math.log(f / k) + (sd * sd) / 2) / sd;
  const d2 = d1 - sd;
  const call = discount * (f * normalCdf(d1) - k * normalCdf(d2));
  const put = discount * (k * normalCdf(-d2) - f * normalCdf(-d1));
  return {
    call: Math.min(discount * f, Math.max(discount * Math.max(f - k, 0), call)),
    put: Math.min(discount * k, Math.max(discount * Math.max(k - f, 0), put)),
  };
}

export interface OpenPositionInput {
  readonly contract: FuturesContract;
  readonly side: PositionSide;
  /** DPN base units. */
  readonly quantity: bigint;
  /** Stable per DPN. */
  readonly entryPrice: number;
  /** Stable base units posted as collateral. */
  readonly margin: bigint;
  /** Annualised volatility used for the initial requirement. */
  readonly sigma: number;
  readonly nowMs: number;
}

function priceUnits(field: string, price: number): bigint {
  priceArg(field, price);
  // The single rounding point for prices: floor(price × 10^18), stable base units per DPN.
  const units = dpnFromNumber(price);
  if (units === 0n) invalid(field, price, "at least 1e-18");
  return units;
}

/**
 * Opens a position if `margin` covers the initial requirement on quantity × entryPrice
 * (docs/protocol.md §Compute futures).
 */
export function openPosition(
  input: OpenPositionInput,
  params: FuturesParams = DEFAULT_FUTURES_PARAMS,
): FuturesPosition {
  validateFuturesParams(params);
  const contract = checkContract(input.contract);
  const side = oneOf("side", input.side, POSITION_SIDES, FUTURES_INVALID_INPUT);
  const quantity = amountArg("quantity", input.quantity, 1n);
  const margin = amountArg("margin", input.margin);
  const entryPrice = priceUnits("entryPrice", input.entryPrice);
  timeArg("nowMs", input.nowMs);
  if (input.nowMs < contract.listedMs || input.nowMs >= contract.expiryMs) {
    throw new DpnError(
      FUTURES_INVALID_CONTRACT,
      `The ${contract.cycle} contract is not trading at ${input.nowMs}.`,
      {
        hint: "Open positions between the contract's listedMs and expiryMs; list the next contract if this one expired.",
        details: { nowMs: input.nowMs, listedMs: contract.listedMs, expiryMs: contract.expiryMs },
      },
    );
  }
  const years = yearsToExpiry(contract, input.nowMs);
  checkSigmaYears(input.sigma, years);
  const scaledNotional = quantity * entryPrice;
  if (scaledNotional < S) {
    invalid(
      "quantity",
      quantity,
      "large enough that quantity × entryPrice is at least one base unit",
    );
  }
  const required = ceilDiv(
    scaledNotional * rateNumerator(params.initialMarginBps, input.sigma, years),
    BPS * S * S,
  );
  if (margin < required) {
    throw new DpnError(
      FUTURES_INSUFFICIENT_MARGIN,
      `Margin ${margin} is below the initial requirement ${required}.`,
      {
        hint: "Post at least the initial margin (15% × notional × (1 + σ√T) by default) or reduce the quantity.",
        details: { margin, required },
      },
    );
  }
  return { contract, side, quantity, entryPrice, margin, openedMs: input.nowMs };
}

function checkPosition(position: FuturesPosition): void {
  checkContract(position.contract);
  oneOf("position.side", position.side, POSITION_SIDES, FUTURES_INVALID_INPUT);
  amountArg("position.quantity", position.quantity, 1n);
  amountArg("position.entryPrice", position.entryPrice, 1n);
  amountArg("position.margin", position.margin);
  timeArg("position.openedMs", position.openedMs);
}

/**
 * Marks a position to an oracle price (docs/protocol.md §Compute futures). With E the equity and
 * V = quantity × mark the notional: liquidate when E < 8%·V; margin call when
 * E < 10%·V·(1 + σ√T); otherwise healthy. Comparisons are exact integer products, so the status
 * changes exactly once as the price moves against the position.
 */
export function markPosition(
  position: FuturesPosition,
  mark: MarkPrice,
  sigma: number,
  nowMs: number,
  params: FuturesParams = DEFAULT_FUTURES_PARAMS,
): PositionMark {
  validateFuturesParams(params);
  checkPosition(position);
  timeArg("nowMs", nowMs);
  timeArg("mark.observedMs", mark.observedMs);
  if (nowMs < position.openedMs)
    invalid("nowMs", nowMs, `>= the position's openedMs (${position.openedMs})`);
  if (mark.observedMs > nowMs) invalid("mark.observedMs", mark.observedMs, `<= nowMs (${nowMs})`);
  if (nowMs - mark.observedMs > params.maxPriceAgeMs) {
    throw new DpnError(
      FUTURES_STALE_PRICE,
      `The mark price is ${nowMs - mark.observedMs} ms old.`,
      {
        hint: `Wait for the next oracle round; prices older than ${params.maxPriceAgeMs} ms are not used for margin.`,
        details: { observedMs: mark.observedMs, nowMs, maxPriceAgeMs: params.maxPriceAgeMs },
      },
    );
  }
  const markPrice = priceUnits("mark.price", mark.price);
  const years = yearsToExpiry(position.contract, nowMs);
  checkSigmaYears(sigma, years);
  // Everything below is scaled by 10^18 so that no rounding happens before the comparisons.
  const direction = position.side === "long" ? 1n : -1n;
  const scaledPnl = direction * position.quantity * (markPrice - position.entryPrice);
  const scaledEquity = position.margin * S + scaledPnl;
  const scaledNotional = position.quantity * markPrice;
  const initialRate = rateNumerator(params.initialMarginBps, sigma, years);
  const maintenanceRate = rateNumerator(params.maintenanceMarginBps, sigma, years);
  let status: PositionStatus = "healthy";
  if (scaledEquity * BPS < params.liquidationBps * scaledNotional) status = "liquidate";
  else if (scaledEquity * BPS * S < scaledNotional * maintenanceRate) status = "margin-call";
  const topUp = ceilDiv(scaledNotional * initialRate - scaledEquity * BPS * S, BPS * S * S);
  return {
    markPrice,
    yearsToExpiry: years,
    notional: scaledNotional / S,
    unrealizedPnl: floorDiv(scaledPnl, S),
    equity: floorDiv(scaledEquity, S),
    equityRatio: Number(scaledEquity) / Number(scaledNotional),
    requiredInitial: ceilDiv(scaledNotional * initialRate, BPS * S * S),
    requiredMaintenance: ceilDiv(scaledNotional * maintenanceRate, BPS * S * S),
    liquidationLine: ceilDiv(scaledNotional * params.liquidationBps, BPS * S),
    status,
    topUpToInitial: topUp > 0n ? topUp : 0n,
  };
}

/**
 * The mark prices (stable per DPN) at which the position reaches its margin call and its
 * liquidation, holding σ and T fixed (docs/protocol.md §Compute futures). Long:
 * P = (entry − margin/quantity) / (1 − rate); short: P = (entry + margin/quantity) / (1 + rate).
 * null when no positive price triggers it (a long with margin ≥ its entry notional).
 */
export function triggerPrices(
  position: FuturesPosition,
  sigma: number,
  nowMs: number,
  params: FuturesParams = DEFAULT_FUTURES_PARAMS,
): { marginCallPrice: number | null; liquidationPrice: number | null } {
  validateFuturesParams(params);
  checkPosition(position);
  const years = yearsToExpiry(position.contract, nowMs);
  checkSigmaYears(sigma, years);
  const entry = Number(position.entryPrice) / 1e18;
  const marginPerDpn = Number(position.margin) / Number(position.quantity);
  const maintenance = Number(rateNumerator(params.maintenanceMarginBps, sigma, years)) / 1e22;
  const liquidation = Number(params.liquidationBps) / 1e4;
  const at = (rate: number): number | null => {
    if (position.side === "short") return (entry + marginPerDpn) / (1 + rate);
    const price = (entry - marginPerDpn) / (1 - rate);
    return rate < 1 && price > 0 ? price : null;
  };
  return { marginCallPrice: at(maintenance), liquidationPrice: at(liquidation) };
}

/** Math.min does not take bigints. */
function minAmount(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/** Floor division for a possibly negative numerator (bigint `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
