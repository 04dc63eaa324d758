import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parameterTableMarkdown } from "./parameterTable.ts";
import { DEFAULT_PARAMS, PARAMETERS, resolveParams } from "./params.ts";
import { errorCode } from "./testing.ts";

describe("governable parameters", () => {
  it("keeps every default within its bounds", () => {
    for (const p of PARAMETERS) {
      expect(p.defaultValue >= p.min && p.defaultValue <= p.max, p.path).toBe(true);
    }
  });

  it("applies a valid override and leaves the defaults untouched", () => {
    const params = resolveParams({ "rate.msfPenalty": 0.25, "devices.ceilingCuPerSec.phone": 10 });
    expect(params.rate.msfPenalty).toBe(0.25);
    expect(params.devices.ceilingCuPerSec.phone).toBe(10);
    expect(DEFAULT_PARAMS.rate.msfPenalty).toBe(0.2);
  });

  it("derives the EV formula's DPN price from the exchange rate's Base_Price", () => {
    expect(resolveParams({ "rate.basePriceUsdPerDpn": 0.2 }).evReward.anchorPriceUsdPerDpn).toBe(
      0.2,
    );
    expect(errorCode(() => resolveParams({ "evReward.anchorPriceUsdPerDpn": 1 }))).toBe(
      "PARAMS_UNKNOWN",
    );
  });

  it("applies bigint parameters and cross-parameter rules", () => {
    expect(resolveParams({ "futures.initialMarginBps": 2000 }).futures.initialMarginBps).toBe(
      2000n,
    );
    expect(errorCode(() => resolveParams({ "futures.liquidationBps": 1200 }))).toBe(
      "FUTURES_INVALID_INPUT",
    );
  });

  it("rejects unknown parameters and values outside bounds", () => {
    expect(errorCode(() => resolveParams({ "rate.nope": 1 }))).toBe("PARAMS_UNKNOWN");
    expect(errorCode(() => resolveParams({ "rate.supplyDemandGain": 1 }))).toBe(
      "PARAMS_OUT_OF_BOUNDS",
    );
    expect(errorCode(() => resolveParams({ "oracle.minLiveFeeds": 2.5 }))).toBe(
      "PARAMS_OUT_OF_BOUNDS",
    );
    expect(errorCode(() => resolveParams({ "decay.floor": Number.NaN }))).toBe(
      "PARAMS_OUT_OF_BOUNDS",
    );
  });

  it("is listed in docs/protocol.md exactly as the registry says (npm run docs:params)", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/protocol.md"), "utf8");
    const start = doc.indexOf("<!-- parameter-table:start -->");
    const end = doc.indexOf("<!-- parameter-table:end -->");
    expect(start, "docs/protocol.md has parameter-table markers").toBeGreaterThan(0);
    expect(doc.slice(start, end)).toContain(parameterTableMarkdown());
  });
});
