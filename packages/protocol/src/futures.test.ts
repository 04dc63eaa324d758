import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ONE_DPN } from "./amount.ts";
import { isDpnError } from "./errors.ts";
import {
  black76,
  DEFAULT_FUTURES_PARAMS,
  FUTURES_CONTRACT_SPECS,
  FUTURES_INSUFFICIENT_MARGIN,
  FUTURES_INVALID_CONTRACT,
  FUTURES_INVALID_INPUT,
  FUTURES_PARAM_BOUNDS,
  FUTURES_STALE_PRICE,
  FUTURES_YEAR_MS,
  type FuturesPosition,
  futuresPrice,
  listContract,
  markPosition,
  normalCdf,
  openPosition,
  type PositionSide,
  type PositionStatus,
  requiredMargin,
  triggerPrices,
  validateFuturesParams,
  yearsToExpiry,
} from "./futures.ts";

const DPN = ONE_DPN;
const STABLE = ONE_DPN;
const MONTH_MS = FUTURES_YEAR_MS / 12;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isDpnError(error) ? error.code : `not a DpnError: ${String(error)}`;
  }
  return undefined;
}

/** Marks at `price` observed at `nowMs` itself. */
function markAt(position: FuturesPosition, price: number, sigma: number, nowMs = 0) {
  return markPosition(position, { price, observedMs: nowMs }, sigma, nowMs);
}

const threeMonth = listContract("3m", 0);

/** docs worked example: long 100 DPN at 2.00, σ = 80%, T = 0.25, margin 42. */
const volatileLong = openPosition({
  contract: threeMonth,
  side: "long",
  quantity: 100n * DPN,
  entryPrice: 2,
  margin: 42n * STABLE,
  sigma: 0.8,
  nowMs: 0,
});

/** docs worked example: σ = 0, so the whitepaper's bare 15% / 10% / 8% apply. */
const plain = (side: PositionSide): FuturesPosition =>
  openPosition({
    contract: threeMonth,
    side,
    quantity: 100n * DPN,
    entryPrice: 2,
    margin: 30n * STABLE,
    sigma: 0,
    nowMs: 0,
  });

describe("contracts", () => {
  it("lists 3, 6 and 12-month contracts of exactly 0.25, 0.5 and 1 year", () => {
    expect(FUTURES_CONTRACT_SPECS["3m"].durationMs).toBe(7_884_000_000);
    expect(yearsToExpiry(threeMonth, 0)).toBe(0.25);
    expect(yearsToExpiry(listContract("6m", 0), 0)).toBe(0.5);
    expect(yearsToExpiry(listContract("12m", 0), 0)).toBe(1);
  });

  it("counts T down to zero at expiry and keeps it there", () => {
    expect(yearsToExpiry(threeMonth, 2 * MONTH_MS)).toBeCloseTo(1 / 12, 15);
    expect(yearsToExpiry(threeMonth, threeMonth.expiryMs)).toBe(0);
    expect(yearsToExpiry(threeMonth, threeMonth.expiryMs + 1)).toBe(0);
  });

  it("rejects unknown cycles and tampered expiries", () => {
    expect(codeOf(() => listContract("9m" as "3m", 0))).toBe(FUTURES_INVALID_CONTRACT);
    expect(codeOf(() => yearsToExpiry({ ...threeMonth, expiryMs: 1 }, 0))).toBe(
      FUTURES_INVALID_CONTRACT,
    );
  });
});

describe("margin requirement", () => {
  it("requires 15% × 200 × (1 + 0.8·√0.25) = 42 stable to open", () => {
    expect(requiredMargin(200n * STABLE, 1_500n, 0.8, 0.25)).toBe(42n * STABLE);
    expect(requiredMargin(200n * STABLE, 1_500n, 0, 0.25)).toBe(30n * STABLE);
  });

  it("never asks for more than the notional", () => {
    expect(requiredMargin(200n * STABLE, 5_000n, 5, 2)).toBe(200n * STABLE);
  });

  it("opens with exactly the initial requirement and refuses one base unit less", () => {
    expect(volatileLong.margin).toBe(42n * STABLE);
    expect(volatileLong.entryPrice).toBe(2n * ONE_DPN);
    const short = () =>
      openPosition({
        contract: threeMonth,
        side: "long",
        quantity: 100n * DPN,
        entryPrice: 2,
        margin: 42n * STABLE - 1n,
        sigma: 0.8,
        nowMs: 0,
      });
    expect(codeOf(short)).toBe(FUTURES_INSUFFICIENT_MARGIN);
  });

  it("refuses to open outside the contract's trading window", () => {
    const open = (nowMs: number) =>
      openPosition({
        contract: listContract("3m", 1_000),
        side: "short",
        quantity: DPN,
        entryPrice: 2,
        margin: DPN,
        sigma: 0,
        nowMs,
      });
    expect(codeOf(() => open(999))).toBe(FUTURES_INVALID_CONTRACT);
    expect(codeOf(() => open(1_000 + FUTURES_CONTRACT_SPECS["3m"].durationMs))).toBe(
      FUTURES_INVALID_CONTRACT,
    );
  });

  it("relaxes as expiry nears: 24% / 16% at 12 months, 19.5% / 13% with 3 months left", () => {
    const contract = listContract("12m", 0);
    const position = openPosition({
      contract,
      side: "long",
      quantity: 100n * DPN,
      entryPrice: 2,
      margin: 48n * STABLE,
      sigma: 0.6,
      nowMs: 0,
    });
    const atOpen = markAt(position, 2, 0.6, 0);
    expect([atOpen.requiredInitial, atOpen.requiredMaintenance]).toEqual([
      48n * STABLE,
      32n * STABLE,
    ]);
    const later = markAt(position, 2, 0.6, 9 * MONTH_MS);
    expect(later.yearsToExpiry).toBe(0.25);
    expect([later.requiredInitial, later.requiredMaintenance]).toEqual([
      39n * STABLE,
      26n * STABLE,
    ]);
  });

  it("is monotone in σ and in T", () => {
    const sigma = fc.double({ min: 0, max: 5, noNaN: true });
    const years = fc.double({ min: 0, max: 2, noNaN: true });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 30n }),
        fc.bigInt({ min: 0n, max: 10_000n }),
        sigma,
        sigma,
        years,
        years,
        (notional, bps, s1, s2, t1, t2) => {
          const [sLow, sHigh] = s1 <= s2 ? [s1, s2] : [s2, s1];
          const [tLow, tHigh] = t1 <= t2 ? [t1, t2] : [t2, t1];
          expect(
            requiredMargin(notional, bps, sLow, tLow) <= requiredMargin(notional, bps, sHigh, tLow),
          ).toBe(true);
          expect(
            requiredMargin(notional, bps, sLow, tLow) <= requiredMargin(notional, bps, sLow, tHigh),
          ).toBe(true);
          expect(requiredMargin(notional, bps, sHigh, tHigh) <= notional).toBe(true);
        },
      ),
    );
  });
});

describe("marking", () => {
  it("walks the σ = 80% long from healthy through margin call to liquidation", () => {
    expect(markAt(volatileLong, 2, 0.8)).toMatchObject({
      status: "healthy",
      equity: 42n * STABLE,
      requiredInitial: 42n * STABLE,
      requiredMaintenance: 28n * STABLE,
      liquidationLine: 16n * STABLE,
      topUpToInitial: 0n,
    });
    const at190 = markAt(volatileLong, 1.9, 0.8);
    expect(at190).toMatchObject({
      status: "healthy",
      equity: 32n * STABLE,
      notional: 190n * STABLE,
      requiredMaintenance: 266n * (STABLE / 10n),
      topUpToInitial: 79n * (STABLE / 10n),
    });
    const at180 = markAt(volatileLong, 1.8, 0.8);
    expect(at180).toMatchObject({
      status: "margin-call",
      equity: 22n * STABLE,
      requiredInitial: 378n * (STABLE / 10n),
      requiredMaintenance: 252n * (STABLE / 10n),
      topUpToInitial: 158n * (STABLE / 10n),
    });
    const at171 = markAt(volatileLong, 1.71, 0.8);
    expect(at171).toMatchObject({
      status: "liquidate",
      equity: 13n * STABLE,
      requiredMaintenance: 2394n * (STABLE / 100n),
      liquidationLine: 1368n * (STABLE / 100n),
      topUpToInitial: 2291n * (STABLE / 100n),
    });
    expect(at171.equityRatio).toBeCloseTo(13 / 171, 12);
  });

  it("puts the σ = 80% long's triggers at 1.8372 and 1.7174", () => {
    const { marginCallPrice, liquidationPrice } = triggerPrices(volatileLong, 0.8, 0);
    expect(marginCallPrice).toBeCloseTo(1.58 / 0.86, 12);
    expect(liquidationPrice).toBeCloseTo(1.58 / 0.92, 12);
    expect(markAt(volatileLong, 1.84, 0.8).status).toBe("healthy");
    expect(markAt(volatileLong, 1.83, 0.8).status).toBe("margin-call");
    expect(markAt(volatileLong, 1.72, 0.8).status).toBe("margin-call");
  });

  it("calls a σ = 0 long below 1.8889 (−5.56%) and liquidates it below 1.8478 (−7.61%)", () => {
    const long = plain("long");
    expect(triggerPrices(long, 0, 0).marginCallPrice).toBeCloseTo(1.7 / 0.9, 12);
    expect(triggerPrices(long, 0, 0).liquidationPrice).toBeCloseTo(1.7 / 0.92, 12);
    expect(markAt(long, 1.89, 0)).toMatchObject({ status: "healthy", equity: 19n * STABLE });
    expect(markAt(long, 1.88, 0)).toMatchObject({
      status: "margin-call",
      equity: 18n * STABLE,
      topUpToInitial: 102n * (STABLE / 10n),
    });
    expect(markAt(long, 1.85, 0).status).toBe("margin-call");
    expect(markAt(long, 1.84, 0).status).toBe("liquidate");
  });

  it("calls a σ = 0 short above 2.0909 (+4.55%) and liquidates it above 2.1296 (+6.48%)", () => {
    const short = plain("short");
    expect(triggerPrices(short, 0, 0).marginCallPrice).toBeCloseTo(2.3 / 1.1, 12);
    expect(triggerPrices(short, 0, 0).liquidationPrice).toBeCloseTo(2.3 / 1.08, 12);
    expect(markAt(short, 2.08, 0)).toMatchObject({ status: "healthy", equity: 22n * STABLE });
    expect(markAt(short, 2.1, 0)).toMatchObject({ status: "margin-call", equity: 20n * STABLE });
    expect(markAt(short, 2.12, 0).status).toBe("margin-call");
    expect(markAt(short, 2.13, 0)).toMatchObject({ status: "liquidate", equity: 17n * STABLE });
  });

  it("reports negative equity as bad debt instead of hiding it", () => {
    const mark = markAt(plain("long"), 1.5, 0);
    expect(mark.equity).toBe(-20n * STABLE);
    expect(mark.status).toBe("liquidate");
    expect(mark.topUpToInitial).toBe(425n * (STABLE / 10n));
  });

  it("refuses a price older than one hourly oracle round plus grace", () => {
    const nowMs = 10_000_000;
    const stale = { price: 2, observedMs: nowMs - DEFAULT_FUTURES_PARAMS.maxPriceAgeMs - 1 };
    expect(codeOf(() => markPosition(volatileLong, stale, 0.8, nowMs))).toBe(FUTURES_STALE_PRICE);
    const fresh = { price: 2, observedMs: nowMs - DEFAULT_FUTURES_PARAMS.maxPriceAgeMs };
    expect(markPosition(volatileLong, fresh, 0.8, nowMs).status).toBe("healthy");
    expect(codeOf(() => markPosition(volatileLong, { price: 2, observedMs: 1 }, 0.8, 0))).toBe(
      FUTURES_INVALID_INPUT,
    );
  });

  it("rejects NaN, infinite, zero and negative inputs", () => {
    for (const price of [Number.NaN, Number.POSITIVE_INFINITY, 0, -1]) {
      expect(codeOf(() => markAt(volatileLong, price, 0.8))).toBe(FUTURES_INVALID_INPUT);
    }
    expect(codeOf(() => markAt(volatileLong, 2, -0.1))).toBe(FUTURES_INVALID_INPUT);
    expect(codeOf(() => markAt(volatileLong, 2, Number.NaN))).toBe(FUTURES_INVALID_INPUT);
  });

  const rank: Record<PositionStatus, number> = { healthy: 0, "margin-call": 1, liquidate: 2 };
  const positionArb = fc.record({
    side: fc.constantFrom<PositionSide>("long", "short"),
    quantity: fc.bigInt({ min: 1n, max: 10n ** 27n }),
    entryPrice: fc.double({ min: 0.01, max: 1_000, noNaN: true }),
    sigma: fc.double({ min: 0, max: 5, noNaN: true }),
    extraBps: fc.bigInt({ min: 0n, max: 20_000n }),
    ageMonths: fc.integer({ min: 0, max: 3 }),
  });

  function open(p: {
    side: PositionSide;
    quantity: bigint;
    entryPrice: number;
    sigma: number;
    extraBps: bigint;
  }): FuturesPosition {
    const probe = () =>
      openPosition({
        contract: threeMonth,
        side: p.side,
        quantity: p.quantity,
        entryPrice: p.entryPrice,
        margin: 0n,
        sigma: p.sigma,
        nowMs: 0,
      });
    // The initial requirement, read from the rejection of a zero-margin open.
    const needed = (() => {
      try {
        probe();
        return 0n;
      } catch (error) {
        const required = isDpnError(error, FUTURES_INSUFFICIENT_MARGIN)
          ? error.details.required
          : 0;
        if (typeof required !== "bigint") throw error;
        return required;
      }
    })();
    const margin = needed + (needed * p.extraBps) / 10_000n;
    return openPosition({
      contract: threeMonth,
      side: p.side,
      quantity: p.quantity,
      entryPrice: p.entryPrice,
      margin,
      sigma: p.sigma,
      nowMs: 0,
    });
  }

  it("worsens the status monotonically as the price moves against the position", () => {
    const price = fc.double({ min: 0.001, max: 2_000, noNaN: true });
    fc.assert(
      fc.property(positionArb, price, price, (p, a, b) => {
        fc.pre(p.quantity * BigInt(Math.floor(p.entryPrice * 1e18)) >= ONE_DPN);
        const position = open(p);
        const nowMs = p.ageMonths * MONTH_MS;
        const [low, high] = a <= b ? [a, b] : [b, a];
        const atLow = markAt(position, low, p.sigma, nowMs).status;
        const atHigh = markAt(position, high, p.sigma, nowMs).status;
        // For a long the lower price is the adverse one; for a short, the higher.
        const [adverse, favourable] = p.side === "long" ? [atLow, atHigh] : [atHigh, atLow];
        expect(rank[adverse] >= rank[favourable]).toBe(true);
      }),
    );
  });

  it("is healthy at open and healthy again after topping up to the initial margin", () => {
    const price = fc.double({ min: 0.001, max: 2_000, noNaN: true });
    fc.assert(
      fc.property(positionArb, price, (p, markPrice) => {
        fc.pre(p.quantity * BigInt(Math.floor(p.entryPrice * 1e18)) >= ONE_DPN);
        const position = open(p);
        expect(markAt(position, p.entryPrice, p.sigma).status).toBe("healthy");
        const nowMs = p.ageMonths * MONTH_MS;
        const mark = markAt(position, markPrice, p.sigma, nowMs);
        expect(Number.isFinite(mark.equityRatio)).toBe(true);
        expect(mark.requiredMaintenance <= mark.requiredInitial).toBe(true);
        const toppedUp = { ...position, margin: position.margin + mark.topUpToInitial };
        expect(markAt(toppedUp, markPrice, p.sigma, nowMs).status).toBe("healthy");
      }),
    );
  });
});

describe("pricing", () => {
  it("prices the 3-month future at 2.01506 from spot 2, r = 5%, y = 2%", () => {
    expect(futuresPrice(2, 0.05, 0.02, 0.25)).toBeCloseTo(2 * Math.exp(0.0075), 15);
    expect(futuresPrice(2, 0.05, 0.02, 0.25)).toBeCloseTo(2.0150563909, 10);
    expect(futuresPrice(2, 0.05, 0.02, 0)).toBe(2);
  });

  it("matches the normal CDF to 6e-8 at reference points", () => {
    // Reference values: 0.5·erfc(−x/√2) in double precision (CPython math.erfc).
    const reference: [number, number][] = [
      [0, 0.5],
      [0.2, 0.579259709439103],
      [0.5, 0.6914624612740131],
      [1, 0.8413447460685429],
      [-1, 0.15865525393145707],
      [1.5, 0.9331927987311419],
      [1.96, 0.9750021048517795],
      [-1.96, 0.024997895148220435],
      [2.5, 0.9937903346742238],
      [3, 0.9986501019683699],
      [-3, 0.0013498980316300957],
      [4, 0.9999683287581669],
      [6, 0.9999999990134123],
    ];
    for (const [x, expected] of reference) {
      expect(Math.abs(normalCdf(x) - expected)).toBeLessThan(6e-8);
    }
    // Relative accuracy in the tails (< 1.2e-7), where absolute error would say nothing.
    expect(Math.abs(normalCdf(-5) / 2.866515718791946e-7 - 1)).toBeLessThan(1.2e-7);
    expect(Math.abs(normalCdf(-8) / 6.220960574271819e-16 - 1)).toBeLessThan(1.2e-7);
  });

  it("prices the at-the-money 3-month option at 0.31310 for both call and put", () => {
    const { call, put } = black76({
      futuresPrice: 2,
      strike: 2,
      sigma: 0.8,
      years: 0.25,
      rate: 0.05,
    });
    expect(Math.abs(call - 0.31310051806261385)).toBeLessThan(1e-7);
    expect(Math.abs(put - 0.31310051806261396)).toBeLessThan(1e-7);
  });

  it("prices the 2.20-strike 3-month call at 0.23915 and put at 0.43667", () => {
    const { call, put } = black76({
      futuresPrice: 2,
      strike: 2.2,
      sigma: 0.8,
      years: 0.25,
      rate: 0.05,
    });
    expect(Math.abs(call - 0.2391545879614859)).toBeLessThan(1e-7);
    expect(Math.abs(put - 0.4366701480602623)).toBeLessThan(1e-7);
  });

  it("returns the discounted intrinsic value when σ = 0 or T = 0", () => {
    expect(black76({ futuresPrice: 2, strike: 1.5, sigma: 0, years: 0.5, rate: 0.04 })).toEqual({
      call: Math.exp(-0.02) * 0.5,
      put: 0,
    });
    expect(black76({ futuresPrice: 2, strike: 2.5, sigma: 0.8, years: 0, rate: 0.04 })).toEqual({
      call: 0,
      put: 0.5,
    });
  });

  const b76Input = fc.record({
    futuresPrice: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
    strikeRatio: fc.double({ min: 0.01, max: 100, noNaN: true }),
    sigma: fc.double({ min: 0, max: 5, noNaN: true }),
    years: fc.double({ min: 0, max: 2, noNaN: true }),
    rate: fc.double({ min: -1, max: 1, noNaN: true }),
  });

  it("satisfies put–call parity C − P = e^{−rT}(F − K) to 1e-9", () => {
    fc.assert(
      fc.property(b76Input, ({ strikeRatio, ...rest }) => {
        const strike = rest.futuresPrice * strikeRatio;
        const { call, put } = black76({ ...rest, strike });
        const discount = Math.exp(-rest.rate * rest.years);
        const scale = discount * (rest.futuresPrice + strike);
        expect(Math.abs(call - put - discount * (rest.futuresPrice - strike))).toBeLessThanOrEqual(
          1e-9 * scale,
        );
      }),
    );
  });

  it("keeps the call between max(0, e^{−rT}(F − K)) and e^{−rT}F", () => {
    fc.assert(
      fc.property(b76Input, ({ strikeRatio, ...rest }) => {
        const strike = rest.futuresPrice * strikeRatio;
        const { call, put } = black76({ ...rest, strike });
        const discount = Math.exp(-rest.rate * rest.years);
        expect(call).toBeGreaterThanOrEqual(Math.max(0, discount * (rest.futuresPrice - strike)));
        expect(call).toBeLessThanOrEqual(discount * rest.futuresPrice);
        expect(put).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("parameters", () => {
  it("ships defaults inside their governance bounds", () => {
    expect(validateFuturesParams(DEFAULT_FUTURES_PARAMS)).toBe(DEFAULT_FUTURES_PARAMS);
    const { initialMarginBps, maintenanceMarginBps, liquidationBps } = FUTURES_PARAM_BOUNDS;
    expect(initialMarginBps.min <= 1_500n && maintenanceMarginBps.max >= 1_000n).toBe(true);
    expect(liquidationBps.min <= 800n).toBe(true);
  });

  it("rejects rates that would liquidate before calling", () => {
    expect(
      codeOf(() => validateFuturesParams({ ...DEFAULT_FUTURES_PARAMS, liquidationBps: 1_000n })),
    ).toBe(FUTURES_INVALID_INPUT);
    expect(
      codeOf(() =>
        validateFuturesParams({ ...DEFAULT_FUTURES_PARAMS, maintenanceMarginBps: 1_500n }),
      ),
    ).toBe(FUTURES_INVALID_INPUT);
  });
});
