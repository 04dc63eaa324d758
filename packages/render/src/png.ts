import { crc32, deflateSync, inflateSync } from "node:zlib";
import { DpnError } from "@dpn/protocol";
import { RENDER_IMAGE_INVALID } from "./errors.ts";
import { checkImage, RGBA_CHANNELS, type RgbaImage } from "./image.ts";

/**
 * The largest image decoded by default: a whole 8192 × 8192 frame (RenderJobSpec bounds width and
 * height to 8192), 256 MiB as RGBA. Callers that know the size to expect pass a tighter bound, so
 * that a small upload cannot claim a huge size and make the node allocate for it.
 */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour types read here, with their channels per pixel (8 bits each). */
const CHANNELS_OF_COLOR_TYPE: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };
/** PNG's own bound on a chunk's length (2^31 − 1). */
const MAX_CHUNK_LENGTH = 0x7fffffff;

function invalid(message: string, cause?: unknown): DpnError {
  return new DpnError(RENDER_IMAGE_INVALID, `Not a usable PNG: ${message}.`, {
    hint: "Images are 8-bit, non-interlaced PNG (grey, grey+alpha, RGB or RGBA), as Blender writes them.",
    cause,
  });
}

/**
 * Decodes a PNG into 8-bit RGBA. Reads the non-interlaced 8-bit grey, grey+alpha, RGB and RGBA
 * images a renderer writes; anything else, a bad checksum, a truncation or more than `maxPixels`
 * pixels is RENDER_IMAGE_INVALID. The size is checked before anything is inflated, and inflating
 * stops at the size the header announces, so a decompression bomb costs nothing.
 */
export function decodePng(bytes: Uint8Array, maxPixels: number = DEFAULT_MAX_PIXELS): RgbaImage {
  if (bytes.length < SIGNATURE.length || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw invalid("the PNG signature is missing");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = SIGNATURE.length;
  let header: { width: number; height: number; channels: number } | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (offset + 12 > bytes.length) throw invalid("it is truncated");
    const length = view.getUint32(offset);
    if (length > MAX_CHUNK_LENGTH || offset + 12 + length > bytes.length) {
      throw invalid("it is truncated");
    }
    const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
    const type = String.fromCharCode(...typeAndData.subarray(0, 4));
    const data = typeAndData.subarray(4);
    if (crc32(typeAndData) !== view.getUint32(offset + 8 + length)) {
      throw invalid(`the ${JSON.stringify(type)} chunk's checksum is wrong`);
    }
    offset += 12 + length;
    if (header === undefined && type !== "IHDR") throw invalid("IHDR is not the first chunk");
    switch (type) {
      case "IHDR":
        if (header !== undefined) throw invalid("it has two IHDR chunks");
        header = readHeader(data, maxPixels);
        break;
      case "IDAT":
        idat.push(data);
        break;
      case "IEND":
        ended = true;
        break;
      default:
        // Bit 5 of the first letter clear: a critical chunk we cannot ignore (e.g. PLTE).
        if (((typeAndData[0] as number) & 0x20) === 0) {
          throw invalid(`it has a critical ${JSON.stringify(type)} chunk`);
        }
    }
  }
  if (header === undefined) throw invalid("it has no IHDR chunk");
  if (idat.length === 0) throw invalid("it has no image data");
  const { width, height, channels } = header;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (error) {
    throw invalid("its image data does not inflate to the announced size", error);
  }
  if (raw.length !== expected) throw invalid("its image data is shorter than announced");
  return toRgba(unfilter(raw, height, stride, channels), width, height, channels);
}

function readHeader(
  data: Uint8Array,
  maxPixels: number,
): { width: number; height: number; channels: number } {
  if (data.length !== 13) throw invalid("its IHDR chunk has the wrong length");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = data.subarray(8);
  if (width === 0 || height === 0) throw invalid(`it is ${width}×${height} pixels`);
  if (width * height > maxPixels) {
    throw new DpnError(
      RENDER_IMAGE_INVALID,
      `The PNG is ${width}×${height} pixels; at most ${maxPixels} are accepted here.`,
      { hint: "An image is never larger than the frame or tile it was rendered for." },
    );
  }
  const channels = CHANNELS_OF_COLOR_TYPE[colorType as number];
  if (bitDepth !== 8 || channels === undefined) {
    throw invalid(`bit depth ${bitDepth} with colour type ${colorType} is not supported`);
  }
  if (compression !== 0 || filter !== 0) throw invalid("it uses an unknown compression or filter");
  if (interlace !== 0) throw invalid("it is interlaced");
  return { width, height, channels };
}

/** Undoes PNG's per-row filters (RFC 2083 §6) in place of a fresh buffer of the bare rows. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i] as number;
      const a = i >= bpp ? (out[row + i - bpp] as number) : 0;
      const b = y > 0 ? (out[prev + i] as number) : 0;
      const c = y > 0 && i >= bpp ? (out[prev + i - bpp] as number) : 0;
      let value: number;
      switch (filter) {
        case 0:
          value = x;
          break;
        case 1:
          value = x + a;
          break;
        case 2:
          value = x + b;
          break;
        case 3:
          value = x + ((a + b) >> 1);
          break;
        case 4:
          value = x + paeth(a, b, c);
          break;
        default:
          throw invalid(`row ${y} has unknown filter type ${filter}`);
      }
      out[row + i] = value & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

function toRgba(pixels: Uint8Array, width: number, height: number, channels: number): RgbaImage {
  if (channels === RGBA_CHANNELS) return { width, height, data: pixels };
  const data = new Uint8Array(width * height * RGBA_CHANNELS);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const d = p * RGBA_CHANNELS;
    const grey = channels <= 2;
    data[d] = pixels[s] as number;
    data[d + 1] = pixels[grey ? s : s + 1] as number;
    data[d + 2] = pixels[grey ? s : s + 2] as number;
    data[d + 3] = channels === 2 ? (pixels[s + 1] as number) : 255;
  }
  return { width, height, data };
}

/**
 * Encodes an RGBA image as an 8-bit RGBA PNG. Each row takes the filter with the smallest sum of
 * absolute residuals (the usual heuristic), which keeps rendered images near Blender's size.
 */
export function encodePng(image: RgbaImage): Uint8Array {
  checkImage(image);
  const { width, height, data } = image;
  const stride = width * RGBA_CHANNELS;
  const filtered = new Uint8Array(height * (stride + 1));
  const candidate = new Uint8Array(stride);
  const best = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    let bestScore = Number.POSITIVE_INFINITY;
    let bestFilter = 0;
    for (let filter = 0; filter <= 4; filter++) {
      let score = 0;
      for (let i = 0; i < stride; i++) {
        const x = data[row + i] as number;
        const a = i >= RGBA_CHANNELS ? (data[row + i - RGBA_CHANNELS] as number) : 0;
        const b = y > 0 ? (data[row - stride + i] as number) : 0;
        const c =
          y > 0 && i >= RGBA_CHANNELS ? (data[row - stride + i - RGBA_CHANNELS] as number) : 0;
        const predictor =
          filter === 0
            ? 0
            : filter === 1
              ? a
              : filter === 2
                ? b
                : filter === 3
                  ? (a + b) >> 1
                  : paeth(a, b, c);
        const residual = (x - predictor) & 0xff;
        candidate[i] = residual;
        score += residual < 128 ? residual : 256 - residual;
      }
      if (score < bestScore) {
        bestScore = score;
        bestFilter = filter;
        best.set(candidate);
      }
    }
    filtered[y * (stride + 1)] = bestFilter;
    filtered.set(best, y * (stride + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8);
  return concat([
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(filtered)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
