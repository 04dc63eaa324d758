// Builds the example circuit from scratch: compile with circom2, make a powers of tau locally,
// Groth16 setup with one contribution, export the verification key, write artifacts/.
//
//   npx tsx packages/circuits/scripts/build.ts            # skips when artifacts are up to date
//   npx tsx packages/circuits/scripts/build.ts --force    # rebuild (reuses build/ powers of tau)
//   npx tsx packages/circuits/scripts/build.ts --clean    # also remake the powers of tau (~2 min)
//   add --verbose for snarkjs's own progress lines
//
// The setup is a single-party demonstration: its toxic waste lives only in this process's memory
// (snarkjs mixes OS randomness into every contribution, so reruns give different keys), but no
// ceremony attests that it was destroyed. Never use these keys for anything of value.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Groth16VerificationKey, Logger } from "snarkjs";
import * as snarkjs from "snarkjs";

const CIRCUIT = "poseidonChain";
/** 2^12 = 4096 ≥ 3840 constraints + 2 public signals + 1: the smallest power that fits Groth16. */
const PTAU_POWER = 12;
/** Mixed with OS randomness by snarkjs; a label, not a secret and not a seed. */
const ENTROPY = "dpn example circuit, demonstration setup";
/** Bumped when this script changes what it produces, so old artifacts count as stale. */
const RECIPE_VERSION = 1;
/** circomlibjs test vector: Poseidon([1, 2]) with circomlib's current (non-"old") constants. */
const POSEIDON_1_2 = 7853200120776062878684798364095072458815029376092732009249414926327459813530n;

const pkgDir = fileURLToPath(new URL("..", import.meta.url));
const circuitFile = path.join(pkgDir, "circuits", `${CIRCUIT}.circom`);
const buildDir = path.join(pkgDir, "build");
const artifactsDir = path.join(pkgDir, "artifacts");
const out = {
  wasm: path.join(artifactsDir, `${CIRCUIT}.wasm`),
  zkey: path.join(artifactsDir, `${CIRCUIT}_final.zkey`),
  vkey: path.join(artifactsDir, "verification_key.json"),
  manifest: path.join(artifactsDir, "manifest.json"),
};
const r1csFile = path.join(buildDir, `${CIRCUIT}.r1cs`);
const symFile = path.join(buildDir, `${CIRCUIT}.sym`);
const ptau = (stage: string): string => path.join(buildDir, `pot${PTAU_POWER}_${stage}.ptau`);
const zkey0 = path.join(buildDir, `${CIRCUIT}_0000.zkey`);

const args = new Set(process.argv.slice(2));
const clean = args.has("--clean");
const force = clean || args.has("--force");
const verbose = args.has("--verbose");

const logger: Logger = {
  debug: () => {},
  info: (m) => {
    if (verbose) console.log(`      ${m}`);
  },
  warn: (m) => console.warn(`      warn: ${m}`),
  error: (m) => console.error(`      error: ${m}`),
};

const require = createRequire(import.meta.url);
/** Walks up from the package's entry point: snarkjs does not export its package.json. */
function versionOf(pkg: string): string {
  for (
    let dir = path.dirname(require.resolve(pkg));
    dir !== path.dirname(dir);
    dir = path.dirname(dir)
  ) {
    const file = path.join(dir, "package.json");
    if (!existsSync(file)) continue;
    const json: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (typeof json === "object" && json !== null && "name" in json && json.name === pkg) {
      if ("version" in json && typeof json.version === "string") return json.version;
    }
  }
  throw new Error(`cannot find the version of ${pkg}`);
}
const sha256File = (file: string): string =>
  createHash("sha256").update(readFileSync(file)).digest("hex");

async function step<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  process.stdout.write(`  ${name} …\n`);
  const result = await run();
  console.log(`  ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

/** Identifies everything the artifacts are made from; a match means there is nothing to do. */
function recipeHash(): string {
  return createHash("sha256")
    .update(readFileSync(circuitFile))
    .update(
      JSON.stringify({
        RECIPE_VERSION,
        PTAU_POWER,
        circom2: versionOf("circom2"),
        circomlib: versionOf("circomlib"),
        snarkjs: versionOf("snarkjs"),
      }),
    )
    .digest("hex");
}

/** Why the artifacts must be rebuilt, or undefined when they match the recipe byte for byte. */
function staleness(recipe: string): string | undefined {
  if (!existsSync(out.manifest)) return "no manifest";
  const manifest: unknown = JSON.parse(readFileSync(out.manifest, "utf8"));
  if (typeof manifest !== "object" || manifest === null) return "unreadable manifest";
  if (!("recipeSha256" in manifest) || manifest.recipeSha256 !== recipe) {
    return "the circuit, this script or a compiler version changed";
  }
  if (!("files" in manifest) || typeof manifest.files !== "object" || manifest.files === null) {
    return "manifest lists no files";
  }
  const files: Record<string, unknown> = { ...manifest.files };
  for (const file of [out.wasm, out.zkey, out.vkey]) {
    const entry = files[path.basename(file)];
    const ok =
      existsSync(file) &&
      typeof entry === "object" &&
      entry !== null &&
      "sha256" in entry &&
      entry.sha256 === sha256File(file);
    // A formatter rewriting verification_key.json lands here too: keep artifacts/ out of them.
    if (!ok) return `${path.basename(file)} is missing or differs from the manifest`;
  }
  return undefined;
}

/**
 * circom2 runs the compiler under WASI and only sees paths below its working directory (an
 * include path with `..` is not found), so run it from the directory holding the node_modules
 * where circomlib is installed and pass every path relative to that.
 */
function compile(): void {
  const circomlibDir = path.dirname(require.resolve("circomlib/package.json"));
  const nodeModules = path.dirname(circomlibDir);
  const cwd = path.dirname(nodeModules);
  const rel = (p: string): string => {
    const r = path.relative(cwd, p);
    if (r.startsWith("..")) throw new Error(`${p} is outside ${cwd}; circom2 cannot reach it`);
    return r;
  };
  execFileSync(
    process.execPath,
    [
      require.resolve("circom2/cli.js"),
      rel(circuitFile),
      "--r1cs",
      "--wasm",
      "--sym",
      "--O2", // full linear simplification: 3,840 constraints instead of 8,272 with the default --O1
      "-l",
      rel(nodeModules),
      "-o",
      rel(buildDir),
    ],
    { cwd, stdio: verbose ? "inherit" : "pipe" },
  );
}

/** Known-answer check of circomlib's Poseidon inside our circuit: h[1] = Poseidon(1, 2). */
async function checkPoseidonVector(wasm: string, steps: number): Promise<void> {
  const names = new Set(["main.h[1]", "main.hashers[0].out"]);
  const witnessIndex = readFileSync(symFile, "utf8")
    .split("\n")
    .map((line) => line.split(","))
    .filter((cols) => names.has(cols[3] ?? "") && Number(cols[1]) >= 0)
    .map((cols) => Number(cols[1]))[0];
  if (witnessIndex === undefined) throw new Error("h[1] was optimised out of the witness");
  const wtns = { type: "mem" as const };
  const input = { h0: "1", x: ["2", ...Array.from({ length: steps - 1 }, () => "0")] };
  await snarkjs.wtns.calculate(input, wasm, wtns);
  const witness = await snarkjs.wtns.exportJson(wtns);
  if (witness[witnessIndex] !== POSEIDON_1_2) {
    throw new Error(`Poseidon(1, 2) = ${witness[witnessIndex]}, expected ${POSEIDON_1_2}`);
  }
}

async function main(): Promise<void> {
  const recipe = recipeHash();
  const stale = staleness(recipe);
  if (!force && stale === undefined) {
    console.log(
      "circuits: artifacts are up to date (--force rebuilds, --clean also redoes the powers of tau)",
    );
    return;
  }
  console.log(`circuits: building (${force ? "forced" : stale})`);
  const started = performance.now();
  if (clean) rmSync(buildDir, { recursive: true, force: true });
  mkdirSync(buildDir, { recursive: true });
  mkdirSync(artifactsDir, { recursive: true });

  await step("compile (circom2 --O2)", compile);
  const builtWasm = path.join(buildDir, `${CIRCUIT}_js`, `${CIRCUIT}.wasm`);
  const info = await snarkjs.r1cs.info(r1csFile, logger);
  console.log(
    `    ${info.nConstraints} constraints, ${info.nPubInputs} public input(s), ` +
      `${info.nPrvInputs} private inputs, ${info.nOutputs} output(s), ${info.nVars} wires`,
  );
  const needed = info.nConstraints + info.nPubInputs + info.nOutputs + 1;
  if (needed > 2 ** PTAU_POWER)
    throw new Error(`circuit needs ${needed} > 2^${PTAU_POWER} rows; raise PTAU_POWER`);
  await step("check Poseidon(1, 2) test vector", () =>
    checkPoseidonVector(builtWasm, info.nPrvInputs),
  );

  if (existsSync(ptau("final"))) {
    console.log(`  powers of tau: reusing ${path.relative(pkgDir, ptau("final"))}`);
  } else {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    await step(`powers of tau: new (2^${PTAU_POWER})`, () =>
      snarkjs.powersOfTau.newAccumulator(curve, PTAU_POWER, ptau("0000"), logger),
    );
    await step("powers of tau: contribute", () =>
      snarkjs.powersOfTau.contribute(ptau("0000"), ptau("0001"), "dpn-1", ENTROPY, logger),
    );
    await step("powers of tau: prepare phase 2", () =>
      snarkjs.powersOfTau.preparePhase2(ptau("0001"), ptau("final"), logger),
    );
  }

  await step("groth16 setup", async () => {
    const result = await snarkjs.zKey.newZKey(r1csFile, ptau("final"), zkey0, logger);
    if (result === -1) throw new Error("groth16 setup failed (run with --verbose)");
  });
  await step("groth16 contribute", () =>
    snarkjs.zKey.contribute(zkey0, out.zkey, "dpn-1", ENTROPY, logger),
  );
  await step("verify zkey against r1cs and ptau", async () => {
    if (!(await snarkjs.zKey.verifyFromR1cs(r1csFile, ptau("final"), out.zkey, logger))) {
      throw new Error("the zkey does not match the circuit and powers of tau");
    }
  });
  const vkey = await step("export verification key", () =>
    snarkjs.zKey.exportVerificationKey(out.zkey, logger),
  );
  if (vkey.protocol !== "groth16") throw new Error("expected a Groth16 verification key");
  const groth16Vkey: Groth16VerificationKey = vkey;
  writeFileSync(out.vkey, `${JSON.stringify(groth16Vkey, null, 2)}\n`);
  copyFileSync(builtWasm, out.wasm);

  const files = Object.fromEntries(
    [out.wasm, out.zkey, out.vkey].map((file) => [
      path.basename(file),
      { bytes: statSync(file).size, sha256: sha256File(file) },
    ]),
  );
  const manifest = {
    circuit: CIRCUIT,
    protocol: "groth16",
    curve: "bn128",
    constraints: info.nConstraints,
    wires: info.nVars,
    publicInputs: info.nPubInputs,
    privateInputs: info.nPrvInputs,
    outputs: info.nOutputs,
    ptauPower: PTAU_POWER,
    compiler: {
      circom2: versionOf("circom2"),
      circomlib: versionOf("circomlib"),
      snarkjs: versionOf("snarkjs"),
    },
    recipeSha256: recipe,
    files,
  };
  writeFileSync(out.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  for (const [name, { bytes }] of Object.entries(files)) {
    console.log(`    ${name}: ${(bytes / 1024).toFixed(0)} KiB`);
  }
  console.log(`circuits: built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

try {
  await main();
} finally {
  // The multi-threaded curve keeps worker threads alive; without this the script never exits.
  await globalThis.curve_bn128?.terminate();
}
