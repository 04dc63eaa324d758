import { DpnError, type Rng } from "@dpn/protocol";
import {
  FL_INVALID_COMPRESSION,
  FL_UPDATE_MALFORMED,
  FL_UPDATE_NOT_FINITE,
  FL_UPDATE_SHAPE_MISMATCH,
  FL_UPDATE_TOO_LARGE,
} from "./errors.ts";
import { MAX_MODEL_PARAMETERS } from "./modelSpec.ts";

/**
 * Update compression (§3.5 "gradient compression transmission"): top-k sparsification, 8-bit
 * quantisation, or both, into one self-describing byte string.
 *
 * Wire format, little-endian:
 *
 *   offset 0  u8[2]  magic "FU"
 *          2  u8     version (1)
 *          3  u8     flags: bit 0 sparse, bit 1 quantised
 *          4  u32    n, the parameter count
 *          8  u32    k, values stored (n when dense)
 *         12  f32 min, f32 step          only when quantised
 *             u16[k] or u32[k] indices   only when sparse; u16 when n ≤ 65,536; strictly increasing
 *             f32[k] values, or u8[k] codes (value = min + code · step)
 *
 * Error bounds (tests): top-k keeps the k largest |values| exactly and zeroes the rest, so every
 * dropped value is at most the smallest kept magnitude; nearest 8-bit quantisation is off by at
 * most step/2 per value, step = (max − min)/255 (stochastic rounding: at most one step, unbiased).
 */

export type Rounding = "nearest" | "stochastic";

export type Compression =
  | { readonly kind: "none" }
  | { readonly kind: "topk"; readonly fraction: number }
  | { readonly kind: "quantize8"; readonly rounding?: Rounding }
  | { readonly kind: "topk+quantize8"; readonly fraction: number; readonly rounding?: Rounding };

export const COMPRESSION_KINDS: readonly Compression["kind"][] = [
  "none",
  "topk",
  "quantize8",
  "topk+quantize8",
];

export interface EncodedUpdate {
  readonly bytes: Uint8Array;
  /** Size of the update as dense float32: 4 bytes per parameter. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

const MAGIC_0 = 0x46; // "F"
const MAGIC_1 = 0x55; // "U"
const VERSION = 1;
const FLAG_SPARSE = 1;
const FLAG_QUANTISED = 2;
const HEADER_BYTES = 12;
const QUANT_HEADER_BYTES = 8;
const LEVELS = 255;
/** Largest n whose indices fit in 16 bits. */
const U16_INDEX_LIMIT = 65_536;

/**
 * Largest encoded update accepted: the dense float32 encoding of the largest model, the most a
 * sensible encoder ever produces. Checked before anything else is read.
 */
export const MAX_UPDATE_BYTES = HEADER_BYTES + 4 * MAX_MODEL_PARAMETERS;

/** How many values top-k keeps of n: ⌈fraction · n⌉, at least one. */
export function topKCount(n: number, fraction: number): number {
  return Math.max(1, Math.min(n, Math.ceil(fraction * n)));
}

/** Size in bytes of the encoding of an update of `parameters` values: it depends on nothing else. */
export function encodedBytes(parameters: number, compression: Compression): number {
  const sparse = compression.kind === "topk" || compression.kind === "topk+quantize8";
  const quantised = compression.kind === "quantize8" || compression.kind === "topk+quantize8";
  const k = sparse ? topKCount(parameters, compression.fraction) : parameters;
  const indexBytes = sparse ? (parameters <= U16_INDEX_LIMIT ? 2 : 4) : 0;
  return (
    HEADER_BYTES + (quantised ? QUANT_HEADER_BYTES : 0) + k * indexBytes + k * (quantised ? 1 : 4)
  );
}

/**
 * Encodes an update. `rng` is needed only for stochastic rounding. Throws FL_INVALID_COMPRESSION
 * for a fraction outside (0, 1] and FL_UPDATE_TOO_LARGE if the result would exceed
 * MAX_UPDATE_BYTES.
 */
export function encodeUpdate(
  update: Float32Array,
  compression: Compression,
  rng?: Rng,
): EncodedUpdate {
  const n = update.length;
  if (n > MAX_MODEL_PARAMETERS) {
    throw tooLarge(`An update of ${n} parameters exceeds MAX_MODEL_PARAMETERS.`);
  }
  if (!COMPRESSION_KINDS.includes(compression.kind)) {
    throw new DpnError(
      FL_INVALID_COMPRESSION,
      `Unknown compression "${String(compression.kind)}".`,
      {
        hint: `Use one of ${COMPRESSION_KINDS.join(", ")}.`,
      },
    );
  }
  for (const v of update) {
    if (!Number.isFinite(v)) {
      throw new DpnError(FL_UPDATE_NOT_FINITE, "Cannot encode an update that is not finite.");
    }
  }
  const sparse = compression.kind === "topk" || compression.kind === "topk+quantize8";
  const quantised = compression.kind === "quantize8" || compression.kind === "topk+quantize8";
  let indices: Uint32Array | undefined;
  let values: Float32Array = update;
  if (sparse) {
    const { fraction } = compression;
    if (typeof fraction !== "number" || !(fraction > 0 && fraction <= 1)) {
      throw new DpnError(
        FL_INVALID_COMPRESSION,
        `Top-k fraction must be in (0, 1], got ${fraction}.`,
        {
          hint: "Pass the share of coordinates to keep, e.g. 0.1 for the largest 10%.",
        },
      );
    }
    indices = topKIndices(update, topKCount(n, fraction));
    values = new Float32Array(indices.length);
    for (let i = 0; i < indices.length; i++) values[i] = update[indices[i] as number] as number;
  }
  const rounding = quantised ? (compression.rounding ?? "nearest") : "nearest";
  if (rounding !== "nearest" && rounding !== "stochastic") {
    throw new DpnError(FL_INVALID_COMPRESSION, `Unknown rounding "${String(rounding)}".`);
  }
  if (rounding === "stochastic" && rng === undefined) {
    throw new DpnError(FL_INVALID_COMPRESSION, "Stochastic rounding needs an Rng.", {
      hint: "Pass a seededRng so the rounding is reproducible.",
    });
  }
  const k = values.length;
  const indexBytes = sparse ? (n <= U16_INDEX_LIMIT ? 2 : 4) : 0;
  const size = encodedBytes(n, compression);
  if (size > MAX_UPDATE_BYTES) {
    throw tooLarge(`The encoding would take ${size} bytes, more than MAX_UPDATE_BYTES.`);
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = MAGIC_0;
  bytes[1] = MAGIC_1;
  bytes[2] = VERSION;
  bytes[3] = (sparse ? FLAG_SPARSE : 0) | (quantised ? FLAG_QUANTISED : 0);
  view.setUint32(4, n, true);
  view.setUint32(8, k, true);
  let at = HEADER_BYTES;
  let min = 0;
  let step = 0;
  if (quantised) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of values) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (k === 0) lo = hi = 0;
    min = Math.fround(lo);
    step = Math.fround((hi - min) / LEVELS);
    view.setFloat32(at, min, true);
    view.setFloat32(at + 4, step, true);
    at += QUANT_HEADER_BYTES;
  }
  if (indices !== undefined) {
    for (const index of indices) {
      if (indexBytes === 2) view.setUint16(at, index, true);
      else view.setUint32(at, index, true);
      at += indexBytes;
    }
  }
  for (const v of values) {
    if (quantised) {
      let code = 0;
      if (step > 0) {
        const t = (v - min) / step;
        const floor = Math.floor(t);
        code =
          rounding === "stochastic" && rng !== undefined
            ? floor + (rng.nextFloat() < t - floor ? 1 : 0)
            : Math.round(t);
      }
      bytes[at] = Math.min(LEVELS, Math.max(0, code));
      at += 1;
    } else {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return { bytes, bytesBefore: 4 * n, bytesAfter: size };
}

/**
 * Decodes an update for a model of `parameters` parameters. Oversized input is FL_UPDATE_TOO_LARGE,
 * another parameter count FL_UPDATE_SHAPE_MISMATCH, anything inconsistent FL_UPDATE_MALFORMED.
 */
export function decodeUpdate(bytes: Uint8Array, parameters: number): Float32Array {
  if (bytes.length > MAX_UPDATE_BYTES) {
    throw tooLarge(`An encoded update of ${bytes.length} bytes exceeds MAX_UPDATE_BYTES.`);
  }
  if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
    throw malformed("It does not start with an update header.");
  }
  if (bytes[2] !== VERSION) throw malformed(`Unknown format version ${bytes[2]}.`);
  const flags = bytes[3] as number;
  if ((flags & ~(FLAG_SPARSE | FLAG_QUANTISED)) !== 0) throw malformed(`Unknown flags ${flags}.`);
  const sparse = (flags & FLAG_SPARSE) !== 0;
  const quantised = (flags & FLAG_QUANTISED) !== 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(4, true);
  const k = view.getUint32(8, true);
  if (n !== parameters) {
    throw new DpnError(
      FL_UPDATE_SHAPE_MISMATCH,
      `The update has ${n} parameters, the model ${parameters}.`,
      { hint: "Updates must be computed on the job's model spec.", details: { n, parameters } },
    );
  }
  if (k > n || (!sparse && k !== n)) throw malformed(`It stores ${k} values of ${n}.`);
  const indexBytes = sparse ? (n <= U16_INDEX_LIMIT ? 2 : 4) : 0;
  const size =
    HEADER_BYTES + (quantised ? QUANT_HEADER_BYTES : 0) + k * indexBytes + k * (quantised ? 1 : 4);
  if (bytes.length !== size)
    throw malformed(`Its header implies ${size} bytes, it has ${bytes.length}.`);
  let at = HEADER_BYTES;
  let min = 0;
  let step = 0;
  if (quantised) {
    min = view.getFloat32(at, true);
    step = view.getFloat32(at + 4, true);
    if (!Number.isFinite(min) || !Number.isFinite(step) || step < 0) {
      throw malformed("Its quantisation range is not finite.");
    }
    at += QUANT_HEADER_BYTES;
  }
  const indices = new Uint32Array(sparse ? k : 0);
  for (let i = 0; i < indices.length; i++) {
    const index = indexBytes === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
    at += indexBytes;
    if (index >= n || (i > 0 && index <= (indices[i - 1] as number))) {
      throw malformed("Its indices are not strictly increasing below n.");
    }
    indices[i] = index;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < k; i++) {
    let value: number;
    if (quantised) {
      value = min + (bytes[at] as number) * step;
      at += 1;
    } else {
      value = view.getFloat32(at, true);
      at += 4;
    }
    if (!Number.isFinite(value)) throw malformed("It holds a value that is not finite.");
    out[sparse ? (indices[i] as number) : i] = value;
  }
  return out;
}

/**
 * Error feedback (Seide et al. 2014; Karimireddy et al. 2019): what compression dropped last
 * time is added to the next update, so nothing is lost for good, only delayed. Returns the
 * encoding of update + residual and the new residual (that sum minus what the server decodes).
 */
export function encodeWithFeedback(
  update: Float32Array,
  residual: Float32Array | undefined,
  compression: Compression,
  rng?: Rng,
): { encoded: EncodedUpdate; residual: Float32Array } {
  const corrected = new Float32Array(update);
  if (residual !== undefined) {
    for (let i = 0; i < corrected.length; i++)
      corrected[i] = (corrected[i] as number) + (residual[i] as number);
  }
  const encoded = encodeUpdate(corrected, compression, rng);
  const decoded = decodeUpdate(encoded.bytes, corrected.length);
  const next = new Float32Array(corrected.length);
  for (let i = 0; i < next.length; i++) next[i] = (corrected[i] as number) - (decoded[i] as number);
  return { encoded, residual: next };
}

/** Indices of the k largest |values|, ties to the lower index, in increasing index order. */
function topKIndices(values: Float32Array, k: number): Uint32Array {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => Math.abs(values[b] as number) - Math.abs(values[a] as number) || a - b);
  return Uint32Array.from(order.slice(0, k)).sort();
}

function tooLarge(message: string): DpnError {
  return new DpnError(FL_UPDATE_TOO_LARGE, message, {
    hint: `An update may take at most ${MAX_UPDATE_BYTES} bytes; compress it or use a smaller model.`,
  });
}

function malformed(message: string): DpnError {
  return new DpnError(FL_UPDATE_MALFORMED, `Malformed update: ${message}`, {
    hint: "Encode updates with encodeUpdate; the sender is buggy or hostile.",
  });
}
