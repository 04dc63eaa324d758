import { type GeoPermissibleObjects, geoNaturalEarth1, geoPath } from "d3-geo";
import { useMemo } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import land110m from "world-atlas/land-110m.json";
import type { Device } from "../api.ts";
import { decodeGeohash } from "../geohash.ts";
import { deviceCells } from "../regions.ts";

const WIDTH = 960;
const HEIGHT = 500;

// The 110 m land outline (55 KB) is bundled; no tiles or external requests.
const topology = land110m as unknown as Topology<{ land: GeometryCollection }>;
const land: GeoPermissibleObjects = feature(topology, topology.objects.land);

const projection = geoNaturalEarth1().fitSize([WIDTH, HEIGHT], { type: "Sphere" });
const path = geoPath(projection);
const landPath = path(land) ?? "";
const spherePath = path({ type: "Sphere" }) ?? "";

export const CLASS_COLOURS: Readonly<Record<string, string>> = {
  server: "#2563eb",
  desktop: "#7c3aed",
  laptop: "#0891b2",
  vehicle: "#ea580c",
  rig: "#dc2626",
  phone: "#16a34a",
  browser: "#ca8a04",
};

export function classColour(deviceClass: string): string {
  return CLASS_COLOURS[deviceClass] ?? "#64748b";
}

/** Devices plotted at the centres of their geohash cells, one marker per cell and class. */
export function WorldMap({ devices }: { readonly devices: readonly Device[] }) {
  const cells = useMemo(() => deviceCells(devices), [devices]);
  return (
    <svg
      className="world-map"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`World map of ${devices.length} devices in ${cells.length} regions`}
    >
      <path d={spherePath} className="sphere" />
      <path d={landPath} className="land" />
      {cells.map((cell) => {
        const centre = decodeGeohash(cell.geohash);
        const point = centre === undefined ? null : projection([centre.lon, centre.lat]);
        if (point === null) return null;
        const [x, y] = point;
        const radius = 5 + Math.min(10, Math.sqrt(cell.count) * 3);
        return (
          <g
            key={`${cell.geohash}:${cell.deviceClass}`}
            className="device-cell"
            data-geohash={cell.geohash}
            data-online={cell.online}
          >
            <circle
              cx={x}
              cy={y}
              r={radius}
              fill={classColour(cell.deviceClass)}
              fillOpacity={cell.online > 0 ? 0.85 : 0.25}
              stroke="#fff"
              strokeWidth={1.5}
            />
            <title>
              {`${cell.geohash}: ${cell.count} ${cell.deviceClass} device(s), ${cell.online} online`}
            </title>
          </g>
        );
      })}
    </svg>
  );
}
