/**
 * How much of the computer a contributing tab may use, and when it must stop (issue 7): a CPU
 * share enforced as a duty cycle, and pauses while the tab is hidden or, where the browser reports
 * it, while the computer runs on battery. Pure: the page and the worker pass in what they observe.
 */

/** The smallest share the page offers (its slider starts at 10 %); lower values are raised to it. */
export const MIN_CPU_SHARE = 0.1;
/**
 * The longest single rest, so a share changed in the middle of a long rest takes effect soon
 * and a stalled clock can never park the device for hours.
 */
export const MAX_IDLE_MS = 60_000;

/** A share in [MIN_CPU_SHARE, 1]; NaN and nonsense become the minimum, never more work. */
export function clampShare(cpuShare: number): number {
  if (!(cpuShare >= MIN_CPU_SHARE)) return MIN_CPU_SHARE;
  return Math.min(1, cpuShare);
}

/**
 * The rest after `workMs` of full-speed work so that work takes `cpuShare` of the wall time:
 * work / (work + idle) = share, so idle = work · (1 − share) / share. At share 1, no rest.
 */
export function idleMsAfter(workMs: number, cpuShare: number): number {
  if (!(workMs > 0)) return 0;
  const share = clampShare(cpuShare);
  return Math.min(MAX_IDLE_MS, (workMs * (1 - share)) / share);
}

/** What the page knows about the machine; `battery` is undefined where the browser does not say. */
export interface WorkConditions {
  readonly hidden: boolean;
  readonly battery: { readonly charging: boolean } | undefined;
  /** The user ticked "run on battery". */
  readonly runOnBattery: boolean;
}

export type PauseReason = "tab hidden" | "on battery";

/** Why the device must not work now, or undefined when it may. */
export function pauseReason(conditions: WorkConditions): PauseReason | undefined {
  if (conditions.hidden) return "tab hidden";
  if (conditions.battery !== undefined && !conditions.battery.charging && !conditions.runOnBattery)
    return "on battery";
  return undefined;
}
