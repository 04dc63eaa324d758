import { nonNegative, oneOf } from "./validate.ts";

/**
 * Device classes and layers (docs/protocol.md §Devices). §3.5 splits devices into a light layer
 * (phones, IoT) and a heavy layer (servers, smart cars); §3.2 singles out mining rigs; §11.1 adds
 * browser tabs ("Chrome extensions"). A device declares its class; that is a claim, which the
 * capability challenge's measurement (parallel throughput over every core the device offers,
 * memory it can commit) must fit, and which the sustained rate of its verified work keeps testing.
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
  /**
   * A PC joins the heavy layer when its parallel throughput reaches this many CU/s: a quarter of
   * a reference core, the browser's threshold, because what the heavy layer needs is to finish
   * one heavy task (a proof of the largest circuit, ≈ 45 CU) within a few minutes of lease time.
   */
  readonly heavyPcMinCuPerSec: number;
  /**
   * A browser tab joins the heavy layer when its benchmark reaches this many CU/s (a quarter of
   * a reference core). Its own threshold, not the PC's: a tab proves on exactly one core (one Web
   * Worker), so one core's speed is what counts, and governance may close the browser path alone
   * (docs/protocol.md §Devices). A value above the browser ceiling keeps every tab light.
   */
  readonly heavyBrowserMinCuPerSec: number;
  /**
   * Memory (MiB, a power of two) a device must prove it can commit to be in the heavy layer: the
   * challenge's scrypt probe of that size. 64 MiB holds the largest zkey a tab downloads.
   */
  readonly heavyMinMemoryMiB: number;
  /** Length of the window over which a device's delivered work is compared with its envelope. */
  readonly sustainedWindowMs: number;
  /**
   * How far the CU a device delivers in a window may exceed what its measurement promised
   * (measured CU/s × window), before the measurement is taken to have been held back.
   */
  readonly sustainedTolerance: number;
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
  heavyPcMinCuPerSec: 0.25,
  heavyBrowserMinCuPerSec: 0.25,
  heavyMinMemoryMiB: 64,
  sustainedWindowMs: 10 * 60_000,
  sustainedTolerance: 4,
};

/**
 * What the capability challenge measured (docs/protocol.md §Devices): the throughput of all its
 * lanes together, how many lanes ran in parallel, and the memory its scrypt probe committed.
 * `memoryMiB` is absent where nothing was probed (the simulator): memory then does not gate.
 */
export interface Measurement {
  readonly cuPerSec: number;
  readonly lanes: number;
  readonly memoryMiB?: number;
}

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
 * Decides a device's effective class and layer from its declaration and its measurement
 * (docs/protocol.md §Devices). A throughput above the declared class's envelope makes it a rig,
 * the class with the fewest rights, so a false claim never pays; a heavy-capable class is heavy
 * once it is fast enough and has proved the memory. A bare number is a throughput measured on
 * one lane with memory not probed. Throws PROTOCOL_UNKNOWN_DEVICE_CLASS for an unknown class.
 */
export function classifyDevice(
  declared: string,
  measured: number | Measurement,
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): DeviceClassification {
  const declaredClass = parseDeviceClass(declared);
  const m: Measurement = typeof measured === "number" ? { cuPerSec: measured, lanes: 1 } : measured;
  nonNegative("benchmarkCuPerSec", m.cuPerSec);
  const speed = `${round(m.cuPerSec)} CU/s over ${m.lanes} lane${m.lanes === 1 ? "" : "s"}`;
  const ceiling = params.ceilingCuPerSec[declaredClass];
  if (m.cuPerSec > ceiling) {
    return {
      declaredClass,
      deviceClass: "rig",
      layer: "heavy",
      longTail: false,
      reason: `measured ${speed}, above the ${declaredClass} envelope of ${ceiling} CU/s: classified as a rig`,
    };
  }
  const heavyFrom = heavyFromCuPerSec(declaredClass, params);
  const fastEnough = m.cuPerSec >= heavyFrom;
  const memoryShort = m.memoryMiB !== undefined && m.memoryMiB < params.heavyMinMemoryMiB;
  const layer: Layer = fastEnough && !memoryShort ? "heavy" : "light";
  const why = !Number.isFinite(heavyFrom)
    ? `a ${declaredClass} is always light`
    : !fastEnough
      ? `heavy from ${heavyFrom} CU/s`
      : memoryShort
        ? `proved ${m.memoryMiB} MiB of the ${params.heavyMinMemoryMiB} MiB the heavy layer needs`
        : heavyFrom === 0
          ? `a ${declaredClass} is heavy`
          : `heavy from ${heavyFrom} CU/s`;
  return {
    declaredClass,
    deviceClass: declaredClass,
    layer,
    longTail: isLongTail(declaredClass),
    reason: `${declaredClass} measured ${speed}: ${layer} layer (${why})`,
  };
}

/** Two significant decimals, for reasons a person reads. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A device's delivered work in the current window (docs/protocol.md §Devices, sustained rate). */
export interface DeliveryWindow {
  readonly startMs: number;
  readonly cu: number;
}

export type SustainedVerdict =
  | { readonly kind: "within"; readonly window: DeliveryWindow }
  | { readonly kind: "exceeds"; readonly window: DeliveryWindow; readonly reason: string };

/**
 * Adds `cu` delivered at `nowMs` to the device's tumbling window and says whether the window now
 * holds more than the device may deliver in one: its measured throughput × the tolerance, and
 * never more than its class's envelope, over a whole window. Dividing by the whole window rather
 * than the time elapsed in it means a burst of results that finish together never counts as a
 * high rate; only work beyond what a whole window allows does. Rigs have no envelope to exceed.
 */
export function sustainedDelivery(
  input: {
    readonly deviceClass: DeviceClass;
    readonly measuredCuPerSec: number;
    readonly window: DeliveryWindow | undefined;
    readonly cu: number;
    readonly nowMs: number;
  },
  params: DeviceClassParams = DEFAULT_DEVICE_CLASS_PARAMS,
): SustainedVerdict {
  const fresh =
    input.window === undefined || input.nowMs - input.window.startMs >= params.sustainedWindowMs;
  const window: DeliveryWindow = fresh
    ? { startMs: input.nowMs, cu: input.cu }
    : { startMs: input.window.startMs, cu: input.window.cu + input.cu };
  if (input.deviceClass === "rig") return { kind: "within", window };
  const seconds = params.sustainedWindowMs / 1000;
  const byMeasurement = input.measuredCuPerSec * params.sustainedTolerance * seconds;
  const byClass = params.ceilingCuPerSec[input.deviceClass] * seconds;
  const allowance = Math.min(byMeasurement, byClass);
  if (window.cu <= allowance) return { kind: "within", window };
  const limit =
    byClass <= byMeasurement
      ? `the ${input.deviceClass} envelope of ${params.ceilingCuPerSec[input.deviceClass]} CU/s`
      : `${params.sustainedTolerance}× its measured ${round(input.measuredCuPerSec)} CU/s`;
  return {
    kind: "exceeds",
    window,
    reason: `delivered ${round(window.cu)} CU within ${seconds} s, more than ${limit} allows (${round(allowance)} CU): classified as a rig`,
  };
}
