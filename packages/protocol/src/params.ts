import { AMM_PARAM_BOUNDS, DEFAULT_AMM_PARAMS, validateAmmParams } from "./amm.ts";
import { DEFAULT_ANTI_DECOUPLING_PARAMS } from "./antiDecoupling.ts";
import { DEFAULT_BURNING_PARAMS, MAX_BURN_BPS } from "./burning.ts";
import { DEFAULT_COST_MODEL } from "./computeUnits.ts";
import { DEFAULT_DECAY_PARAMS } from "./decay.ts";
import { DEFAULT_DEVICE_CLASS_PARAMS } from "./devices.ts";
import { DpnError } from "./errors.ts";
import { DEFAULT_EV_REWARD_PARAMS, EV_REWARD_PARAM_BOUNDS } from "./evReward.ts";
import { DEFAULT_RATE_PARAMS } from "./exchangeRate.ts";
import { DEFAULT_FUTURES_PARAMS, FUTURES_PARAM_BOUNDS, validateFuturesParams } from "./futures.ts";
import {
  checkGovernanceParams,
  DEFAULT_GOVERNANCE_PARAMS,
  GOVERNANCE_PARAM_BOUNDS,
} from "./governance.ts";
import { DEFAULT_ORACLE_PARAMS } from "./oracle.ts";
import { ANTI_MONOPOLY_FUND_BPS } from "./paymentSplit.ts";
import { DEFAULT_PRIVACY_PARAMS, PRIVACY_PARAM_BOUNDS } from "./privacy.ts";
import { DEFAULT_QUARANTINE_PARAMS, QUARANTINE_PARAM_BOUNDS } from "./quarantine.ts";
import { DEFAULT_REQUEST_LIMIT_PARAMS, REQUEST_LIMIT_PARAM_BOUNDS } from "./requestLimits.ts";
import { DEFAULT_RECYCLE_BPS } from "./supply.ts";

/**
 * Every governable parameter of the protocol, with its default and allowed bounds
 * (docs/protocol.md §Parameters). Governance changes parameters only through resolveParams,
 * which rejects any value outside its bounds, so no vote can set a rate that divides by zero.
 */
export interface ParamSpec {
  /** "group.name", or "group.name.key" for a per-class table. */
  readonly path: string;
  /** Bigint parameters (basis points of token amounts) are whole numbers. */
  readonly kind: "number" | "bigint";
  readonly defaultValue: number;
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly unit: string;
  /** The section of docs/protocol.md that defines it. */
  readonly section: string;
}

const DEFAULT_TREE = {
  rate: DEFAULT_RATE_PARAMS,
  decay: DEFAULT_DECAY_PARAMS,
  burning: DEFAULT_BURNING_PARAMS,
  antiDecoupling: DEFAULT_ANTI_DECOUPLING_PARAMS,
  oracle: DEFAULT_ORACLE_PARAMS,
  costModel: DEFAULT_COST_MODEL,
  devices: DEFAULT_DEVICE_CLASS_PARAMS,
  payments: { antiMonopolyFundBps: ANTI_MONOPOLY_FUND_BPS },
  supply: { recycleBps: DEFAULT_RECYCLE_BPS },
  amm: DEFAULT_AMM_PARAMS,
  futures: DEFAULT_FUTURES_PARAMS,
  governance: DEFAULT_GOVERNANCE_PARAMS,
  privacy: DEFAULT_PRIVACY_PARAMS,
  evReward: DEFAULT_EV_REWARD_PARAMS,
  requests: DEFAULT_REQUEST_LIMIT_PARAMS,
  quarantine: DEFAULT_QUARANTINE_PARAMS,
};

export type ProtocolParams = typeof DEFAULT_TREE;

type Bound = readonly [min: number, max: number, unit: string, section: string, integer?: boolean];

const DAY_MS = 86_400_000;
const BOUNDS: Readonly<Record<string, Bound>> = {
  "rate.basePriceUsdPerDpn": [1e-6, 1e6, "USD/DPN", "Exchange rate"],
  "rate.supplyDemandGain": [0, 0.9, "", "Exchange rate"],
  "rate.supplyDemandClamp": [0, 1, "", "Exchange rate"],
  "rate.discountIndexClamp": [0, 0.9, "", "Exchange rate"],
  "rate.msfRigShareThreshold": [0, 1, "share", "Exchange rate"],
  "rate.msfPenalty": [0, 4, "", "Exchange rate"],
  "rate.ehfLongTailThreshold": [0, 1, "share", "Exchange rate"],
  "rate.ehfBonus": [0, 1, "", "Exchange rate"],
  "decay.lambdaPerDay": [0, 1, "1/day", "Time decay"],
  "decay.floor": [1e-6, 1, "", "Time decay"],
  "decay.restResetDays": [0, 365, "days", "Time decay"],
  "burning.baseBurnBps": [0, MAX_BURN_BPS, "bps", "Burning controller", true],
  "burning.balanceBand": [0, 0.5, "", "Burning controller"],
  "burning.excessIncrease": [0, 1, "", "Burning controller"],
  "burning.shortageDecrease": [0, 1, "", "Burning controller"],
  "burning.balanceFineTune": [0, 0.1, "", "Burning controller"],
  "burning.coldStorageShare": [0, 1, "share", "Burning controller"],
  "burning.emergencyReleaseShare": [0, 1, "share", "Burning controller"],
  "antiDecoupling.triggerDeviation": [0.001, 0.5, "", "Anti-decoupling"],
  "antiDecoupling.gain": [0, 1, "", "Anti-decoupling"],
  "oracle.maxStalenessMs": [1_000, 7 * DAY_MS, "ms", "Oracles", true],
  "oracle.minLiveFeeds": [1, 16, "feeds", "Oracles", true],
  "oracle.jumpThreshold": [0.01, 1, "", "Oracles"],
  "oracle.fallbackWindowMs": [3_600_000, 90 * DAY_MS, "ms", "Oracles", true],
  "oracle.maxFutureSkewMs": [0, 3_600_000, "ms", "Oracles", true],
  "costModel.hashesPerCu": [1, 1e12, "iterations/CU", "Compute units"],
  "costModel.groth16BaseCu": [0, 1e6, "CU", "Compute units"],
  "costModel.groth16CuPerConstraintLog": [1e-12, 1, "CU", "Compute units"],
  "costModel.flopsPerCu": [1, 1e15, "FLOP/CU", "Compute units"],
  "costModel.analyticsCellsPerCu": [1, 1e15, "cells/CU", "Compute units"],
  "costModel.renderSamplesPerCu": [1, 1e15, "samples/CU", "Compute units"],
  "devices.ceilingCuPerSec.phone": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.iot": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.browser": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.vehicle": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.pc": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.server": [0, 1e6, "CU/s", "Devices"],
  "devices.ceilingCuPerSec.rig": [0, Number.POSITIVE_INFINITY, "CU/s", "Devices"],
  "devices.heavyPcMinCuPerSec": [0, 1e6, "CU/s", "Devices"],
  "devices.heavyBrowserMinCuPerSec": [0, 1e6, "CU/s", "Devices"],
  "devices.heavyMinMemoryMiB": [1, 1024, "MiB", "Devices", true],
  "devices.sustainedWindowMs": [1_000, DAY_MS, "ms", "Devices", true],
  "devices.sustainedTolerance": [1, 100, "", "Devices"],
  "payments.antiMonopolyFundBps": [0, 10_000, "bps", "Payment split", true],
  "supply.recycleBps": [0, 10_000, "bps", "Supply", true],
  ...boundsOf("amm", AMM_PARAM_BOUNDS, "AMM (§4.5)"),
  ...boundsOf("futures", FUTURES_PARAM_BOUNDS, "Compute futures (§4.5)", true),
  ...boundsOf("governance", GOVERNANCE_PARAM_BOUNDS, "Governance"),
  ...boundsOf("privacy", PRIVACY_PARAM_BOUNDS, "Differential privacy"),
  ...boundsOf("evReward", EV_REWARD_PARAM_BOUNDS, "EV reward"),
  ...boundsOf("requests", REQUEST_LIMIT_PARAM_BOUNDS, "Limits", true),
  ...boundsOf("quarantine", QUARANTINE_PARAM_BOUNDS, "Reputation", true),
};

/** Adopts a module's own bounds table, so each bound is written once, next to its parameter. */
function boundsOf(
  group: string,
  table: Readonly<Record<string, { readonly min: number | bigint; readonly max: number | bigint }>>,
  section: string,
  integer = false,
): Record<string, Bound> {
  const out: Record<string, Bound> = {};
  for (const [name, { min, max }] of Object.entries(table)) {
    const unit = name.endsWith("Bps")
      ? "bps"
      : name.endsWith("Ms")
        ? "ms"
        : name.endsWith("Dpn")
          ? "DPN"
          : "";
    out[`${group}.${name}`] = [Number(min), Number(max), unit, section, integer];
  }
  return out;
}

function leaves(tree: unknown, prefix: string, out: Array<[string, number | bigint]>): void {
  if (typeof tree === "number" || typeof tree === "bigint") {
    out.push([prefix, tree]);
    return;
  }
  for (const [key, value] of Object.entries(tree as Record<string, unknown>)) {
    leaves(value, prefix === "" ? key : `${prefix}.${key}`, out);
  }
}

/** Parameters that restate another one; resolveParams derives them, governance cannot set them. */
const DERIVED: ReadonlySet<string> = new Set(["evReward.anchorPriceUsdPerDpn"]);

function specsOf(tree: ProtocolParams): ParamSpec[] {
  const out: Array<[string, number | bigint]> = [];
  leaves(tree, "", out);
  return out
    .filter(([path]) => !DERIVED.has(path))
    .map(([path, value]) => {
      const bound = BOUNDS[path];
      if (bound === undefined) throw new Error(`parameter ${path} has no bounds`);
      const [min, max, unit, section, integer = false] = bound;
      const kind = typeof value === "bigint" ? "bigint" : "number";
      return {
        path,
        kind,
        defaultValue: Number(value),
        min,
        max,
        unit,
        section,
        integer: integer || kind === "bigint",
      };
    });
}

/** The registry: every parameter, its default and bounds, in a stable order. */
export const PARAMETERS: readonly ParamSpec[] = specsOf(DEFAULT_TREE);

export const DEFAULT_PARAMS: ProtocolParams = DEFAULT_TREE;

/**
 * Applies overrides, given as { "rate.msfPenalty": 0.25, … }, to the defaults and validates each.
 * Unknown paths raise PARAMS_UNKNOWN; values outside bounds raise PARAMS_OUT_OF_BOUNDS.
 */
export function resolveParams(overrides: Readonly<Record<string, number>> = {}): ProtocolParams {
  const resolved = structuredClone(DEFAULT_TREE) as unknown as Record<
    string,
    Record<string, unknown>
  >;
  for (const [path, value] of Object.entries(overrides)) {
    const spec = PARAMETERS.find((p) => p.path === path);
    if (spec === undefined) {
      throw new DpnError("PARAMS_UNKNOWN", `There is no parameter "${path}".`, {
        hint: "List the parameters with their bounds in docs/protocol.md §Parameter table.",
        details: { path },
      });
    }
    const valid =
      typeof value === "number" &&
      !Number.isNaN(value) &&
      value >= spec.min &&
      value <= spec.max &&
      (!spec.integer || Number.isInteger(value));
    if (!valid) {
      throw new DpnError(
        "PARAMS_OUT_OF_BOUNDS",
        `${path} = ${value} is outside [${spec.min}, ${spec.max}]${spec.integer ? " or not whole" : ""}.`,
        { hint: `Choose a value in [${spec.min}, ${spec.max}].`, details: { path, value } },
      );
    }
    const keys = path.split(".");
    let node: Record<string, unknown> = resolved;
    for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
    node[keys[keys.length - 1] as string] = spec.kind === "bigint" ? BigInt(value) : value;
  }
  const tree = resolved as unknown as ProtocolParams;
  // §11.1's 0.15 is the DPN price, which is the exchange rate's Base_Price.
  const params: ProtocolParams = {
    ...tree,
    evReward: { ...tree.evReward, anchorPriceUsdPerDpn: tree.rate.basePriceUsdPerDpn },
  };
  // Constraints between parameters (for example liquidation < maintenance < initial margin).
  validateAmmParams(params.amm);
  validateFuturesParams(params.futures);
  checkGovernanceParams(params.governance);
  return params;
}
