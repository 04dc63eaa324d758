import { nonNegative, oneOf } from "./validate.ts";

/**
 * Device classes and layers (docs/protocol.md §Devices). §3.5 splits devices into a light layer
 * (phones, IoT) and a heavy layer (servers, smart cars); §3.2 singles out mining rigs; §11.1 adds
 * browser tabs ("Chrome extensions"). A device declares its class; the capability benchmark the
 * node issues at registration decides whether the claim is plausible.
 */
export const DEVICE_CLASSES = [
  "phone",
  "iot",
  "browser",
  "vehicle",
  "pc",
  "server",
  "rig",
] as const;
export type DeviceClass = (typeof DEVICE_CLASSES)[number];
export type Layer = "light" | "heavy";

export const UNKNOWN_DEVICE_CLASS = "PROTOCOL_UNKNOWN_DEVICE_CLASS";

/** §3.1 EHF: "long-tail devices (such as mobile phones and in-vehicle terminals)". */
const LONG_TAIL: ReadonlySet<DeviceClass> = new Set(["phone", "iot", "browser", "vehicle"]);

export interface DeviceClassParams {
  /**
   * The most compute (CU/s, see §Compute units) a device of each class can plausibly deliver.
   * A benchmark above the ceiling means the declared class is false; such a device is treated
   * as a rig, the class with the fewest rights, so lying about the class never pays.
   */
  readonly ceilingCuPerSec: Readonly<Record<DeviceClass, number>>;
  /** A PC joins the heavy layer when its benchmark reaches this many CU/s (4 reference cores). */
  readonly heavyPcMinCuPerSec: number;
  /**
   * A browser tab joins the heavy layer when its benchmark reaches this many CU/s (a quarter of
   * a reference core). Its own threshold, not the PC's: a tab proves on exactly one core (one Web
   * Worker), so one core's speed is what counts, and governance may close the browser path alone
   * (docs/protocol.md §Devices). A value above the browser ceiling keeps every tab light.
   */
  readonly heavyBrowserMinCuPerSec: number;
}

export const DEFAULT_DEVICE_CLASS_PARAMS: DeviceClassParams = {
  ceilingCuPerSec: {
    phone: 8,
    iot: 2,
    browser: 8,
    vehicle: 16,
    pc: 32,
    server: 256,
    rig: Number.POSITIVE_INFINITY,
  },
  heavyPcMinCuPerSec: 4,
  heavyBrowserMinCuPerSec: 0.25,
};

export interface DeviceClassification {
  readonly declaredClass: DeviceClass;
  readonly deviceClass: DeviceClass;
  readonly layer: Layer;
  readonly longTail: boolean;
  /** Why the class or layer was decided, for the registration response and the audit log. */
  readonly reason: string;
}

export function parseDeviceClass(value: string): DeviceClass {
  return oneOf("deviceClass", value, DEVICE_CLASSES, UNKNOWN_DEVICE_CLASS);
}

export function isLongTail(deviceClass: DeviceClass): boolean {
  return LONG_TAIL.has(deviceClass);
}

/**
 * The benchmark (CU/s) from which a class is in the heavy layer (docs/protocol.md §Devices):
 * +∞ for phones and IoT (never), 0 for vehicles, servers and rigs (always), a governed threshold
 * for PCs and browser tabs.
 */
export function heavyFromCuPerSec(
  deviceClass: DeviceClass,
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): number {
  switch (deviceClass) {
    case "phone":
    case "iot":
      return Number.POSITIVE_INFINITY;
    case "vehicle":
    case "server":
    case "rig":
      return 0;
    case "pc":
      return params.heavyPcMinCuPerSec;
    case "browser":
      return params.heavyBrowserMinCuPerSec;
  }
}

/** Layer of a class at a given measured capability (docs/protocol.md §Devices). */
export function layerOf(
  deviceClass: DeviceClass,
  benchmarkCuPerSec: number,
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): Layer {
  return benchmarkCuPerSec >= heavyFromCuPerSec(deviceClass, params) ? "heavy" : "light";
}

/**
 * Decides a device's effective class and layer from its declaration and its measured capability
 * (docs/protocol.md §Devices). Throws PROTOCOL_UNKNOWN_DEVICE_CLASS for an unknown class.
 */
export function classifyDevice(
  declared: string,
  benchmarkCuPerSec: number,
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): DeviceClassification {
  const declaredClass = parseDeviceClass(declared);
  nonNegative("benchmarkCuPerSec", benchmarkCuPerSec);
  const ceiling = params.ceilingCuPerSec[declaredClass];
  if (benchmarkCuPerSec > ceiling) {
    return {
      declaredClass,
      deviceClass: "rig",
      layer: "heavy",
      longTail: false,
      reason: `benchmark ${benchmarkCuPerSec} CU/s exceeds the ${declaredClass} ceiling of ${ceiling} CU/s; treated as a rig`,
    };
  }
  const layer = layerOf(declaredClass, benchmarkCuPerSec, params);
  return {
    declaredClass,
    deviceClass: declaredClass,
    layer,
    longTail: isLongTail(declaredClass),
    reason:
      declaredClass === "pc" || declaredClass === "browser"
        ? `${declaredClass} at ${benchmarkCuPerSec} CU/s: ${layer} layer (heavy from ${heavyFromCuPerSec(declaredClass, params)} CU/s)`
        : `${declaredClass}: ${layer} layer`,
  };
}
