/**
 * Geohash decoding (Niemeyer's base-32 interleaved bisection). Devices report a precision-4 cell
 * (about 39 km × 20 km), never a point; the dashboard plots each cell at its centre.
 */
const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

/** A geohash longer than this is refused: precision 12 is already below a centimetre. */
export const MAX_GEOHASH_LENGTH = 12;

export interface GeohashCell {
  /** Centre latitude, degrees. */
  readonly lat: number;
  /** Centre longitude, degrees. */
  readonly lon: number;
  /** Half the cell's height, degrees. */
  readonly latErr: number;
  /** Half the cell's width, degrees. */
  readonly lonErr: number;
}

/** Decodes a geohash to its cell; undefined for an empty, over-long or non-geohash string. */
export function decodeGeohash(hash: string): GeohashCell | undefined {
  const text = hash.toLowerCase();
  if (text.length === 0 || text.length > MAX_GEOHASH_LENGTH) return undefined;
  let latMin = -90;
  let latMax = 90;
  let lonMin = -180;
  let lonMax = 180;
  let evenBit = true; // bits alternate, longitude first
  for (const char of text) {
    const value = BASE32.indexOf(char);
    if (value === -1) return undefined;
    for (let bit = 4; bit >= 0; bit--) {
      const on = ((value >> bit) & 1) === 1;
      if (evenBit) {
        const mid = (lonMin + lonMax) / 2;
        if (on) lonMin = mid;
        else lonMax = mid;
      } else {
        const mid = (latMin + latMax) / 2;
        if (on) latMin = mid;
        else latMax = mid;
      }
      evenBit = !evenBit;
    }
  }
  return {
    lat: (latMin + latMax) / 2,
    lon: (lonMin + lonMax) / 2,
    latErr: (latMax - latMin) / 2,
    lonErr: (lonMax - lonMin) / 2,
  };
}

/** Why `input` is not a precision-4 geohash cell (what devices register with), or undefined. */
export function cellError(input: string): string | undefined {
  const text = input.trim();
  if (text.length !== 4)
    return `A region is a 4-character geohash (about 39 × 20 km), e.g. u33d for Berlin; "${text}" has ${text.length}.`;
  const bad = [...text.toLowerCase()].find((c) => !BASE32.includes(c));
  if (bad !== undefined) return `"${bad}" is not a geohash character (0-9 and b-z except i, l, o).`;
  return undefined;
}
