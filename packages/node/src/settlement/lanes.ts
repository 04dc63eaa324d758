/**
 * One lane per device for verification (docs/protocol.md §Verification): at most `width` of a
 * device's verifications run at once, the rest wait in that device's queue in arrival order.
 * The verifier's processes are shared first come first served, so a device that sends a
 * thousand results holds at most `width` places in the verifier's queue and every other
 * device's next result waits behind at most that many of them. A queue holds only results
 * already claimed (leased → verifying), so it is bounded by the device's leases (MAX_CREDIT).
 */
export class DeviceLanes {
  private readonly lanes = new Map<
    string,
    { running: number; readonly waiting: Array<() => void> }
  >();

  constructor(private readonly width: number) {
    if (!Number.isInteger(width) || width < 1) throw new Error(`lane width ${width} is not ≥ 1`);
  }

  /** Verifications of `deviceId` running now (tests, metrics). */
  running(deviceId: string): number {
    return this.lanes.get(deviceId)?.running ?? 0;
  }

  /** Runs `work` in `deviceId`'s lane, once one of its `width` places is free. */
  async run<T>(deviceId: string, work: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(deviceId);
    if (lane === undefined) {
      lane = { running: 0, waiting: [] };
      this.lanes.set(deviceId, lane);
    }
    if (lane.running >= this.width) {
      await new Promise<void>((resolve) => lane?.waiting.push(resolve));
    } else {
      lane.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = lane.waiting.shift();
      // The place passes to the next waiter as it is; an empty lane is forgotten.
      if (next !== undefined) next();
      else if (--lane.running === 0) this.lanes.delete(deviceId);
    }
  }
}
