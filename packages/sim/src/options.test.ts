import { isDpnError } from "@dpn/protocol";
import { describe, expect, it } from "vitest";
import { resolveMonteCarloOptions } from "./monteCarlo.ts";
import { runNetwork } from "./network.ts";
import { SIM_INVALID_OPTION } from "./options.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isDpnError(error) ? error.code : "not a DpnError";
  }
  return undefined;
}

describe("option validation", () => {
  it.each([
    [{ iterations: 0, seed: "s" }],
    [{ iterations: 10_000_001, seed: "s" }],
    [{ iterations: 1.5, seed: "s" }],
    [{ iterations: 10, seed: "" }],
    [{ iterations: 10, seed: "s", threads: 0 }],
    [{ iterations: 10, seed: "s", stepHours: 5 }],
    [{ iterations: 10, seed: "s", days: 0 }],
    [{ iterations: 10, seed: "s", scenarios: ["nope"] }],
    [{ iterations: 10, seed: "s", scenarios: [] }],
    [{ iterations: 10, seed: "s", params: { "antiDecoupling.gain": 2 } }],
    [{ iterations: 10, seed: "s", params: { "no.such": 1 } }],
    [{ iterations: 10, seed: "s", market: { deviceSellShare: -1 } }],
  ])("rejects Monte Carlo options %j with SIM_INVALID_OPTION", (options) => {
    expect(codeOf(() => resolveMonteCarloOptions(options))).toBe(SIM_INVALID_OPTION);
  });

  it.each([
    [{ devices: 0, seed: "s" }],
    [{ devices: 10_000_001, seed: "s" }],
    [{ devices: 10, seed: "s", hours: 0 }],
    [{ devices: 10, seed: "s", monthlyChurn: 1.5 }],
    [{ devices: 10, seed: "s", demandToCapacity: Number.NaN }],
  ])("rejects network options %j with SIM_INVALID_OPTION", (options) => {
    expect(codeOf(() => runNetwork(options))).toBe(SIM_INVALID_OPTION);
  });

  it("says what to do in the message", () => {
    try {
      resolveMonteCarloOptions({ iterations: 0, seed: "s" });
    } catch (error) {
      expect(isDpnError(error) && error.hint).toMatch(/10,000,000/);
      expect(isDpnError(error) && error.details.option).toBe("iterations");
    }
  });
});
