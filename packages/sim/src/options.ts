import { DpnError, type ProtocolParams, resolveParams } from "@dpn/protocol";
import { DEFAULT_MARKET_PARAMS, type MarketParams } from "./market.ts";

/** Every rejected simulator option raises this code (stable: the CLI and scripts match on it). */
export const SIM_INVALID_OPTION = "SIM_INVALID_OPTION";

/** Bounds that keep a run within this machine's memory and a person's patience. */
export const MAX_ITERATIONS = 10_000_000;
export const MAX_DEVICES = 10_000_000;
export const MAX_THREADS = 64;
export const MAX_NETWORK_HOURS = 24 * 365;
export const MAX_SCENARIO_DAYS = 365;

function fail(option: string, value: unknown, expected: string, hint: string): never {
  throw new DpnError(SIM_INVALID_OPTION, `${option} must be ${expected}, got ${String(value)}.`, {
    hint,
    details: { option, value: typeof value === "bigint" ? value.toString() : String(value) },
  });
}

export function integerIn(
  option: string,
  value: unknown,
  min: number,
  max: number,
  hint: string,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(option, value, `a whole number in [${min}, ${max}]`, hint);
  }
  return value;
}

export function numberIn(
  option: string,
  value: unknown,
  min: number,
  max: number,
  hint: string,
): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail(option, value, `a number in [${min}, ${max}]`, hint);
  }
  return value;
}

export function seedOption(value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 256) {
    fail(
      "seed",
      value,
      "a non-empty string of at most 256 characters",
      "Pass --seed S; the same seed reproduces the run bit for bit.",
    );
  }
  return value;
}

/** Protocol parameter overrides ("rate.msfPenalty": 0.3), checked by the protocol's own bounds. */
export function protocolParams(
  overrides: Readonly<Record<string, number>> | undefined,
): ProtocolParams {
  try {
    return resolveParams(overrides ?? {});
  } catch (error) {
    if (error instanceof DpnError) {
      throw new DpnError(SIM_INVALID_OPTION, `Invalid protocol parameter: ${error.shortMessage}`, {
        hint: error.hint ?? "See the parameter table in docs/protocol.md.",
        details: error.details,
        cause: error,
      });
    }
    throw error;
  }
}

/** Market parameters with overrides, each checked against a plausible range. */
export function marketParams(overrides: Partial<MarketParams> | undefined): MarketParams {
  const merged = { ...DEFAULT_MARKET_PARAMS, ...overrides };
  const hint = "See the market parameters in packages/sim/README.md.";
  numberIn("market.sentimentVolPerSqrtDay", merged.sentimentVolPerSqrtDay, 0, 2, hint);
  numberIn("market.sentimentReversionPerDay", merged.sentimentReversionPerDay, 0, 1, hint);
  numberIn("market.jumpRatePerDay", merged.jumpRatePerDay, 0, 24, hint);
  numberIn("market.jumpSigma", merged.jumpSigma, 0, 2, hint);
  numberIn("market.traderAdjustPerDay", merged.traderAdjustPerDay, 0, 1, hint);
  numberIn("market.computePriceVolPerSqrtDay", merged.computePriceVolPerSqrtDay, 0, 1, hint);
  numberIn("market.feedNoise", merged.feedNoise, 0, 0.5, hint);
  numberIn("market.feedLieRatePerDay", merged.feedLieRatePerDay, 0, 24, hint);
  numberIn("market.deviceSellShare", merged.deviceSellShare, 0, 1, hint);
  numberIn("market.requesterBuyShare", merged.requesterBuyShare, 0, 1, hint);
  const slip = merged.tradeSlippageBps;
  if (typeof slip !== "bigint" || slip < 1n || slip > 9_000n) {
    fail("market.tradeSlippageBps", slip, "a bigint in [1, 9000]", hint);
  }
  return merged;
}
