import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { poseidonChain } from "./index.ts";
import { readZkeyShape, ZkeyFormatError } from "./zkeyShape.ts";

const zkey = readFileSync(poseidonChain.artifacts.zkey);
const manifest = JSON.parse(readFileSync(poseidonChain.artifacts.manifest, "utf8")) as {
  constraints: number;
  wires: number;
  publicInputs: number;
  outputs: number;
  ptauPower: number;
};
const dir = mkdtempSync(join(tmpdir(), "dpn-zkey-shape-"));

/** Byte offset of a section's contents, walking the container as snarkjs writes it. */
function sectionOffset(bytes: Buffer, type: number): number {
  let offset = 12;
  for (let i = 0; i < bytes.readUInt32LE(8); i++) {
    const size = Number(bytes.readBigUInt64LE(offset + 4));
    if (bytes.readUInt32LE(offset) === type) return offset + 12;
    offset += 12 + size;
  }
  throw new Error(`no section ${type}`);
}

/** Where the Groth16 header's domainSize is (bn128: 32-byte q and r). */
const domainSizeAt = sectionOffset(zkey, 2) + 4 + 32 + 4 + 32 + 8;
const coeffsAt = sectionOffset(zkey, 4);
const coefficientCount = zkey.readUInt32LE(coeffsAt);
/** Offset of coefficient i's (matrix, row, signal) triple. */
const coefficientAt = (i: number): number => coeffsAt + 4 + i * (12 + 32);

function tampered(name: string, edit: (bytes: Buffer) => Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, edit(Buffer.from(zkey)));
  return file;
}

describe("readZkeyShape", () => {
  it("reads the example circuit's R1CS size from its zkey, as snarkjs r1cs info counted it", async () => {
    const shape = await readZkeyShape(poseidonChain.artifacts.zkey);
    expect(shape).toMatchObject({
      constraints: manifest.constraints,
      nVars: manifest.wires,
      nPublic: manifest.publicInputs + manifest.outputs,
      domainSize: 2 ** manifest.ptauPower,
    });
    expect(shape.constraints).toBe(poseidonChain.constraints);
    expect(shape.coefficients).toBe(coefficientCount);
  });

  it("refuses a domain larger than the constraints need (FFTs the count would not show)", async () => {
    const file = tampered("wide.zkey", (b) => {
      b.writeUInt32LE(b.readUInt32LE(domainSizeAt) * 2, domainSizeAt);
      return b;
    });
    await expect(readZkeyShape(file)).rejects.toThrow(/domain \(8192 rows\)/);
  });

  it("refuses trailing rows that are not the public signals' (a count read from a forged row)", async () => {
    // The last row claims 4,000 more constraints than the circuit has: its domain is too small.
    const longer = tampered("forged-row.zkey", (b) => {
      const at = coefficientAt(coefficientCount - 1) + 4;
      b.writeUInt32LE(b.readUInt32LE(at) + 4000, at);
      return b;
    });
    await expect(readZkeyShape(longer)).rejects.toThrow(/domain \(4096 rows\)/);
    // The last row binds another signal than the last public one.
    const rebound = tampered("forged-signal.zkey", (b) => {
      b.writeUInt32LE(0, coefficientAt(coefficientCount - 1) + 8);
      return b;
    });
    await expect(readZkeyShape(rebound)).rejects.toThrow(/not the public signals' rows/);
  });

  it("refuses a coefficient of a wire the key does not have", async () => {
    const file = tampered("stray-wire.zkey", (b) => {
      b.writeUInt32LE(manifest.wires, coefficientAt(0) + 8);
      return b;
    });
    await expect(readZkeyShape(file)).rejects.toThrow(/coefficient 0 is outside the circuit/);
  });

  it("refuses a truncated zkey, another file and a missing one, naming no path", async () => {
    const truncated = tampered("short.zkey", (b) => b.subarray(0, coefficientAt(10)));
    await expect(readZkeyShape(truncated)).rejects.toThrow(/truncated/);
    const json = tampered("vkey.zkey", () => readFileSync(poseidonChain.artifacts.verificationKey));
    await expect(readZkeyShape(json)).rejects.toThrow(/wrong magic/);
    const missing = join(dir, "absent.zkey");
    const error = await readZkeyShape(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZkeyFormatError);
    expect(String(error)).not.toContain(dir);
  });
});
