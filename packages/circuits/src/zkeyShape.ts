// Reads the size of a Groth16 circuit from its snarkjs proving key (zkey), without snarkjs:
// the zkey's own header and coefficient section, read in place.

import { type FileHandle, open } from "node:fs/promises";

/** What a Groth16 zkey says about its circuit. */
export interface ZkeyShape {
  /** R1CS constraints, as `snarkjs r1cs info` counts them for the circuit the key was made from. */
  readonly constraints: number;
  /** Public signals (outputs, then public inputs), not counting the constant 1. */
  readonly nPublic: number;
  /** Wires of the witness, the constant 1 included. */
  readonly nVars: number;
  /** Rows of the evaluation domain: the size of the prover's FFTs, a power of two. */
  readonly domainSize: number;
  /** Non-zero coefficients of the A and B matrices the prover evaluates. */
  readonly coefficients: number;
}

/** Why a file is not a Groth16 zkey this reader accepts (the message says what, never where). */
export class ZkeyFormatError extends Error {
  override readonly name = "ZkeyFormatError";
}

/** snarkjs's binary container: "zkey", version 1, then (type u32, size u64, bytes) sections. */
const MAGIC = "zkey";
const SECTION_HEADER = 1;
const SECTION_GROTH16 = 2;
const SECTION_COEFFS = 4;
const PROTOCOL_GROTH16 = 1;
/** A section table longer than this is not a zkey (snarkjs writes 10 sections, or 11 with PLONK). */
const MAX_SECTIONS = 64;
/** Coefficients read per chunk: 64 Ki entries of 44 bytes (bn128) is ~2.8 MiB of memory. */
const COEFFS_PER_CHUNK = 65_536;

/**
 * The shape of the Groth16 circuit a zkey proves, checked for the layout snarkjs writes.
 *
 * The zkey's header holds nVars, nPublic and domainSize but not the constraint count (snarkjs's
 * `zKey.newZKey` rounds it up into domainSize, a power of two). The count is read from the
 * coefficient section instead: after the circuit's A and B coefficients, snarkjs appends one row
 * per public signal and one for the constant, `A[nConstraints + s][s] = 1` for s = 0…nPublic
 * (they bind the public inputs to the proof), so the last row's index is nConstraints + nPublic.
 * That count is the R1CS's exactly, constraints with only a C side included (the prover never
 * reads C: it is A·B on a satisfying witness).
 *
 * Refused (ZkeyFormatError): anything but a snarkjs Groth16 zkey; trailing rows that are not those
 * public rows; a coefficient outside the domain, of an unknown matrix or of a wire the key does
 * not have; and a domain larger than the smallest power of two above nConstraints + nPublic,
 * which snarkjs never writes and which would have a prover do FFTs the constraint count does not
 * show. The whole coefficient section is read, in chunks (44 bytes per coefficient on bn128).
 */
export async function readZkeyShape(path: string): Promise<ZkeyShape> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch {
    throw new ZkeyFormatError("the zkey cannot be read");
  }
  try {
    return await shapeOf(file);
  } finally {
    await file.close();
  }
}

interface Section {
  readonly offset: number;
  readonly size: number;
}

async function shapeOf(file: FileHandle): Promise<ZkeyShape> {
  const { size: fileSize } = await file.stat();
  const read = async (offset: number, length: number): Promise<DataView> => {
    if (offset + length > fileSize) throw new ZkeyFormatError("the zkey is truncated");
    const bytes = Buffer.alloc(length);
    await file.read(bytes, 0, length, offset);
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const head = await read(0, 12);
  const magic = String.fromCharCode(...new Uint8Array(head.buffer, head.byteOffset, 4));
  if (magic !== MAGIC) throw new ZkeyFormatError("not a snarkjs zkey (wrong magic)");
  if (head.getUint32(4, true) !== 1) throw new ZkeyFormatError("not a version 1 zkey");
  const count = head.getUint32(8, true);
  if (count > MAX_SECTIONS) throw new ZkeyFormatError(`${count} sections is not a zkey`);
  const sections = new Map<number, Section>();
  let offset = 12;
  for (let i = 0; i < count; i++) {
    const entry = await read(offset, 12);
    const type = entry.getUint32(0, true);
    const size = Number(entry.getBigUint64(4, true));
    offset += 12;
    if (offset + size > fileSize) throw new ZkeyFormatError("the zkey is truncated");
    // snarkjs reads the sections it uses with startReadUniqueSection: one of each.
    if (sections.has(type)) throw new ZkeyFormatError(`section ${type} appears twice`);
    sections.set(type, { offset, size });
    offset += size;
  }
  const section = (type: number): Section => {
    const found = sections.get(type);
    if (found === undefined) throw new ZkeyFormatError(`the zkey has no section ${type}`);
    return found;
  };

  const header = section(SECTION_HEADER);
  if (header.size < 4 || (await read(header.offset, 4)).getUint32(0, true) !== PROTOCOL_GROTH16) {
    throw new ZkeyFormatError("not a Groth16 zkey");
  }

  // Groth16 header: n8q u32, q (n8q bytes), n8r u32, r (n8r bytes), nVars, nPublic, domainSize.
  const groth = section(SECTION_GROTH16);
  const n8q = (await read(groth.offset, 4)).getUint32(0, true);
  if (n8q === 0 || n8q > 64 || n8q % 8 !== 0) throw new ZkeyFormatError("unusable field size");
  const n8r = (await read(groth.offset + 4 + n8q, 4)).getUint32(0, true);
  if (n8r === 0 || n8r > 64 || n8r % 8 !== 0) throw new ZkeyFormatError("unusable field size");
  if (8 + n8q + n8r + 12 > groth.size) throw new ZkeyFormatError("the Groth16 header is short");
  const sizes = await read(groth.offset + 8 + n8q + n8r, 12);
  const nVars = sizes.getUint32(0, true);
  const nPublic = sizes.getUint32(4, true);
  const domainSize = sizes.getUint32(8, true);
  if (nPublic + 1 > nVars) throw new ZkeyFormatError("more public signals than wires");
  if (domainSize < 2 || (domainSize & (domainSize - 1)) !== 0) {
    throw new ZkeyFormatError("the domain size is not a power of two");
  }

  // Coefficients: count u32, then (matrix u32, constraint u32, signal u32, value n8r bytes).
  const coeffs = section(SECTION_COEFFS);
  const entry = 12 + n8r;
  const coefficients = (await read(coeffs.offset, 4)).getUint32(0, true);
  if (coeffs.size !== 4 + coefficients * entry) {
    throw new ZkeyFormatError("the coefficient section's size does not match its count");
  }
  if (coefficients < nPublic + 1) throw new ZkeyFormatError("the public signals have no rows");
  const lastRow = (await read(coeffs.offset + 4 + (coefficients - 1) * entry, 12)).getUint32(
    4,
    true,
  );
  const constraints = lastRow - nPublic;
  if (lastRow < nPublic || constraints < 1)
    throw new ZkeyFormatError("the circuit has no constraints");
  // snarkjs: cirPower = log2(nConstraints + nPublic) + 1, the smallest power of two above.
  if (domainSize !== smallestPowerOfTwoAbove(constraints + nPublic)) {
    throw new ZkeyFormatError(
      `the domain (${domainSize} rows) is not the one ${constraints} constraints and ${nPublic} public signals need`,
    );
  }
  const firstPublic = coefficients - (nPublic + 1);
  for (let from = 0; from < coefficients; from += COEFFS_PER_CHUNK) {
    const n = Math.min(COEFFS_PER_CHUNK, coefficients - from);
    const chunk = await read(coeffs.offset + 4 + from * entry, n * entry);
    for (let i = 0; i < n; i++) {
      const matrix = chunk.getUint32(i * entry, true);
      const row = chunk.getUint32(i * entry + 4, true);
      const signal = chunk.getUint32(i * entry + 8, true);
      const index = from + i;
      if (index >= firstPublic) {
        const s = index - firstPublic;
        if (matrix !== 0 || row !== constraints + s || signal !== s) {
          throw new ZkeyFormatError("the last rows are not the public signals' rows");
        }
      } else if (matrix > 1 || row >= constraints || signal >= nVars) {
        throw new ZkeyFormatError(`coefficient ${index} is outside the circuit`);
      }
    }
  }
  return { constraints, nPublic, nVars, domainSize, coefficients };
}

/** The smallest power of two strictly greater than n (n ≥ 1). */
function smallestPowerOfTwoAbove(n: number): number {
  let power = 1;
  while (power <= n) power *= 2;
  return power;
}
