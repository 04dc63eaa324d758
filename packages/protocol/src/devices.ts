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

/** Layer of a class at a given measured capability (docs/protocol.md §Devices). */
export function layerOf(
  deviceClass: DeviceClass,
  benchmarkCuPerSec: number,
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): Layer {
  switch (deviceClass) {
    case "phone":
    case "iot":
    case "browser":
      return "light";
    case "vehicle":
    case "server":
    case "rig":
      return "heavy";
    case "pc":
      return benchmarkCuPerSec >= params.heavyPcMinCuPerSec ? "heavy" : "light";
  }
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
      declaredClass === "pc"
        ? `pc at ${benchmarkCuPerSec} CU/s: ${layer} layer (heavy from ${params.heavyPcMinCuPerSec} CU/s)`
        : `${declaredClass}: ${layer} layer`,
  };
}
