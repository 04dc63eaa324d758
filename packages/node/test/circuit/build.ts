import * as fs from "node:fs";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { useSingleThreadedCurve } from "@dpn/circuits";
import type { Groth16VerificationKey } from "snarkjs";
import * as snarkjs from "snarkjs";

/**
 * A test circuit compiled and set up from source in the test's own process: circom2 (the
 * compiler under WASI, run in-process) and a Groth16 key from a powers of tau made here. Nothing
 * is read from the example circuit's artifacts, so a test sees what a requester bringing their
 * own circuit sees. The setup is a single-party demonstration, fit for tests only.
 */
export interface BuiltCircuit {
  readonly wasm: Uint8Array;
  readonly zkey: Uint8Array;
  readonly verificationKey: Groth16VerificationKey;
  /** From the R1CS the compiler wrote (snarkjs r1cs info): the count the node must find. */
  readonly r1cs: { readonly nConstraints: number; readonly nPublic: number };
  /** Wall time of each step, in ms. */
  readonly timings: { readonly compile: number; readonly ptau: number; readonly zkey: number };
}

const require = createRequire(import.meta.url);

/** The parts of circom2 (CommonJS, no types) this helper uses. */
interface Circom2 {
  CircomRunner: new (options: {
    args: string[];
    env: Record<string, string>;
    preopens: Record<string, string>;
    bindings: Record<string, unknown>;
  }) => { execute(wasm: Uint8Array): Promise<unknown> };
  bindings: Record<string, unknown>;
}

/**
 * Compiles `circuits/<name>.circom` (next to this file) with `--O2` and makes its keys from a
 * 2^`ptauPower` powers of tau. circom2's WASI sandbox sees only the directories it is given, so
 * the source, circomlib's templates and the output are mounted at fixed guest paths: no path
 * relative to a working directory, and no symlinked node_modules, is involved.
 */
export async function buildCircuit(name: string, ptauPower: number): Promise<BuiltCircuit> {
  await useSingleThreadedCurve();
  const started = performance.now();
  const out = mkdtempSync(join(tmpdir(), `dpn-circuit-${name}-`));
  const circom = require("circom2") as Circom2;
  // The compiler's own messages are kept, and shown only when it fails.
  const messages: Buffer[] = [];
  const captureStdio = (
    fd: number,
    buffer: Uint8Array,
    offset = 0,
    length = buffer.byteLength - offset,
    position: number | null = null,
  ): number => {
    if (fd !== 1 && fd !== 2) return fs.writeSync(fd, buffer, offset, length, position);
    messages.push(Buffer.from(buffer.subarray(offset, offset + length)));
    return length;
  };
  const runner = new circom.CircomRunner({
    args: [`/src/${name}.circom`, "--r1cs", "--wasm", "--O2", "-l", "/lib", "-o", "/out"],
    env: {},
    preopens: {
      "/src": dirname(fileURLToPath(import.meta.url)),
      "/lib": join(dirname(require.resolve("circomlib/package.json")), "circuits"),
      "/out": out,
    },
    bindings: { ...circom.bindings, fs: { ...fs, writeSync: captureStdio } },
  });
  try {
    await runner.execute(readFileSync(require.resolve("circom2/circom.wasm")));
  } catch (error) {
    throw new Error(`circom2 failed on ${name}.circom:\n${Buffer.concat(messages).toString()}`, {
      cause: error,
    });
  }
  const r1csFile = join(out, `${name}.r1cs`);
  const info = await snarkjs.r1cs.info(r1csFile);
  const compiled = performance.now();

  const curve = await snarkjs.curves.getCurveFromName("bn128", { singleThread: true });
  const tau0 = { type: "mem" as const };
  const tau1 = { type: "mem" as const };
  const tau = { type: "mem" as const };
  await snarkjs.powersOfTau.newAccumulator(curve, ptauPower, tau0);
  await snarkjs.powersOfTau.contribute(tau0, tau1, "test", "dpn test circuit");
  await snarkjs.powersOfTau.preparePhase2(tau1, tau);
  const tauDone = performance.now();

  const zkey0 = { type: "mem" as const };
  const zkey = { type: "mem" as const };
  if ((await snarkjs.zKey.newZKey(r1csFile, tau, zkey0)) === -1) {
    throw new Error(`${name} does not fit a 2^${ptauPower} powers of tau`);
  }
  await snarkjs.zKey.contribute(zkey0, zkey, "test", "dpn test circuit");
  const verificationKey = await snarkjs.zKey.exportVerificationKey(zkey);
  if (verificationKey.protocol !== "groth16") throw new Error("expected a Groth16 key");
  const done = performance.now();
  return {
    wasm: readFileSync(join(out, `${name}_js`, `${name}.wasm`)),
    zkey: memBytes(zkey),
    verificationKey,
    r1cs: { nConstraints: info.nConstraints, nPublic: info.nPubInputs + info.nOutputs },
    timings: {
      compile: compiled - started,
      ptau: tauDone - compiled,
      zkey: done - tauDone,
    },
  };
}

/** snarkjs fills a `{ type: "mem" }` file's `data` with the bytes it wrote. */
function memBytes(file: { type: "mem"; data?: Uint8Array }): Uint8Array {
  if (file.data === undefined) throw new Error("snarkjs wrote nothing");
  return file.data;
}
