/** Aggregations of the device list for the overview: by map cell, by class and by layer. */

export interface DeviceLike {
  readonly deviceClass: string;
  readonly layer: string;
  readonly geohash: string;
  readonly online: boolean;
}

export interface DeviceCell {
  readonly geohash: string;
  readonly deviceClass: string;
  readonly count: number;
  readonly online: number;
}

/** Groups devices by (precision-4 cell, class), sorted for a stable drawing order. */
export function deviceCells(devices: readonly DeviceLike[]): DeviceCell[] {
  const cells = new Map<
    string,
    { geohash: string; deviceClass: string; count: number; online: number }
  >();
  for (const d of devices) {
    const geohash = d.geohash.slice(0, 4).toLowerCase();
    const key = `${geohash}:${d.deviceClass}`;
    const cell = cells.get(key) ?? { geohash, deviceClass: d.deviceClass, count: 0, online: 0 };
    cell.count += 1;
    if (d.online) cell.online += 1;
    cells.set(key, cell);
  }
  return [...cells.values()].sort(
    (a, b) => a.geohash.localeCompare(b.geohash) || a.deviceClass.localeCompare(b.deviceClass),
  );
}

/** Online devices counted by a key (class or layer), largest first. */
export function countOnline(
  devices: readonly DeviceLike[],
  key: (d: DeviceLike) => string,
): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const d of devices) if (d.online) counts.set(key(d), (counts.get(key(d)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
