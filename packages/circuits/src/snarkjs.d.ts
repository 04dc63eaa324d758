// Types for the part of snarkjs 0.7.6 that DPN uses. snarkjs ships no types; these are written
// from its source (node_modules/snarkjs/src/*.js) and cover only what we call. Field elements
// cross the API as decimal strings; snarkjs converts them to bigint internally.

declare module "snarkjs" {
  /** A field element as snarkjs serialises it: a decimal string (bn128 scalar or base field). */
  export type NumericString = string;

  /** One circuit input signal: a scalar or a (nested) array for array signals. */
  export type SignalValue = string | number | bigint | readonly SignalValue[];

  /** Named input signals of a circuit, e.g. `{ h0: "1", x: ["2", "3"] }`. */
  export type CircuitSignals = { readonly [signal: string]: SignalValue };

  /** Public signals as the prover returns them: outputs first, then public inputs. */
  export type PublicSignals = NumericString[];

  /**
   * A file snarkjs reads or writes (fastfile): a path, the bytes themselves (read only), or an
   * in-memory file object that snarkjs fills in (`{ type: "mem" }` as a witness destination).
   */
  export type FileSource = string | Uint8Array | MemFile;
  export interface MemFile {
    type: "mem";
    data?: Uint8Array;
  }

  /** snarkjs logs through this optional interface (logplease-compatible). */
  export interface Logger {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  }

  /** Options of the circom witness calculator (circom_runtime). */
  export interface WitnessCalculatorOptions {
    /** WebAssembly memory in 64 KiB pages; default 32767 (2 GiB reserved, committed lazily). */
    memorySize?: number;
  }

  /**
   * Prover options. `singleThread: true` builds a private single-threaded curve instead of the
   * shared multi-threaded singleton (`globalThis.curve_bn128`); it is rebuilt on every call.
   */
  export interface ProverOptions {
    singleThread?: boolean;
  }

  export type G1Affine = [NumericString, NumericString, NumericString];
  export type G2Affine = [
    [NumericString, NumericString],
    [NumericString, NumericString],
    [NumericString, NumericString],
  ];

  export interface Groth16Proof {
    pi_a: G1Affine;
    pi_b: G2Affine;
    pi_c: G1Affine;
    protocol: "groth16";
    curve: string;
  }

  export interface Groth16VerificationKey {
    protocol: "groth16";
    curve: string;
    nPublic: number;
    vk_alpha_1: G1Affine;
    vk_beta_2: G2Affine;
    vk_gamma_2: G2Affine;
    vk_delta_2: G2Affine;
    vk_alphabeta_12: NumericString[][][];
    IC: G1Affine[];
  }

  export interface PlonkProof {
    protocol: "plonk";
    curve: string;
    [commitmentOrEvaluation: string]: string | NumericString[];
  }

  export interface PlonkVerificationKey {
    protocol: "plonk";
    curve: string;
    nPublic: number;
    power: number;
    [parameter: string]: string | number | NumericString[] | NumericString[][];
  }

  export interface ProofResult<P> {
    proof: P;
    publicSignals: PublicSignals;
  }

  export namespace groth16 {
    /** Witness calculation + proof. Reads `wasm` and `zkey` (paths or bytes) on every call. */
    function fullProve(
      input: CircuitSignals,
      wasm: FileSource,
      zkey: FileSource,
      logger?: Logger,
      witnessOptions?: WitnessCalculatorOptions,
      proverOptions?: ProverOptions,
    ): Promise<ProofResult<Groth16Proof>>;
    /** Proof from an already computed witness (`.wtns` file or the `MemFile` wtns.calculate filled). */
    function prove(
      zkey: FileSource,
      witness: FileSource,
      logger?: Logger,
      proverOptions?: ProverOptions,
    ): Promise<ProofResult<Groth16Proof>>;
    /**
     * Resolves false for a wrong proof, an off-curve point or a public signal outside the field.
     * Rejects (throws) on structurally malformed input: missing fields, non-numeric strings, or
     * more public signals than the key has. Fewer signals than `nPublic` are NOT rejected (the
     * missing ones count as zero): callers must check the count themselves.
     */
    function verify(
      verificationKey: Groth16VerificationKey,
      publicSignals: readonly SignalValue[],
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
  }

  export namespace plonk {
    /** Returns -1 (does not throw) when the circuit is too big for the powers of tau. */
    function setup(
      r1cs: FileSource,
      ptau: FileSource,
      zkeyOut: FileSource,
      logger?: Logger,
    ): Promise<-1 | undefined>;
    function fullProve(
      input: CircuitSignals,
      wasm: FileSource,
      zkey: FileSource,
      logger?: Logger,
      witnessOptions?: WitnessCalculatorOptions,
      proverOptions?: ProverOptions,
    ): Promise<ProofResult<PlonkProof>>;
    function verify(
      verificationKey: PlonkVerificationKey,
      publicSignals: readonly SignalValue[],
      proof: PlonkProof,
      logger?: Logger,
    ): Promise<boolean>;
  }

  export namespace wtns {
    /** Runs the circuit's wasm witness generator and writes a `.wtns` file (or fills a MemFile). */
    function calculate(
      input: CircuitSignals,
      wasm: FileSource,
      wtnsOut: FileSource,
      options?: WitnessCalculatorOptions,
    ): Promise<void>;
    /** The whole witness vector: index 0 is the constant 1, then outputs, public inputs, private. */
    function exportJson(wtns: FileSource): Promise<bigint[]>;
  }

  export interface R1csInfo {
    nVars: number;
    nConstraints: number;
    nPrvInputs: number;
    nPubInputs: number;
    nOutputs: number;
    nLabels: number;
    prime: bigint;
  }

  export namespace r1cs {
    function info(r1cs: FileSource, logger?: Logger): Promise<R1csInfo>;
  }

  export namespace powersOfTau {
    /** Returns the first challenge hash. */
    function newAccumulator(
      curve: Curve,
      power: number,
      ptauOut: FileSource,
      logger?: Logger,
    ): Promise<Uint8Array>;
    /** Mixes `entropy` with 64 bytes of OS randomness: the result is not reproducible. */
    function contribute(
      ptauIn: FileSource,
      ptauOut: FileSource,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    function preparePhase2(ptauIn: FileSource, ptauOut: FileSource, logger?: Logger): Promise<void>;
  }

  export namespace zKey {
    /** Groth16 phase-2 start. Returns the circuit hash, or -1 (does not throw) on failure. */
    function newZKey(
      r1cs: FileSource,
      ptau: FileSource,
      zkeyOut: FileSource,
      logger?: Logger,
    ): Promise<Uint8Array | -1>;
    /** Mixes `entropy` with 64 bytes of OS randomness; returns the contribution hash. */
    function contribute(
      zkeyIn: FileSource,
      zkeyOut: FileSource,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    function exportVerificationKey(
      zkey: FileSource,
      logger?: Logger,
    ): Promise<Groth16VerificationKey | PlonkVerificationKey>;
    /** Checks a zkey against its circuit and powers of tau. */
    function verifyFromR1cs(
      r1cs: FileSource,
      ptau: FileSource,
      zkey: FileSource,
      logger?: Logger,
    ): Promise<boolean>;
  }

  /** An ffjavascript curve engine. Only lifecycle members are typed. */
  export interface Curve {
    name: string;
    /**
     * Stops the curve's worker threads. Only the multi-threaded singleton has any; for it this
     * also clears `globalThis.curve_bn128`. Takes ~200 ms (a fixed sleep in ffjavascript).
     */
    terminate(): Promise<void>;
  }

  export namespace curves {
    /**
     * "bn128" (alias "bn254", "altbn128") or "bls12381". Without `singleThread` it returns the
     * process-wide singleton `globalThis.curve_bn128`, creating it (and os.cpus().length worker
     * threads) on first use; with `singleThread: true` it builds a new, unshared engine.
     */
    function getCurveFromName(name: string, options?: ProverOptions): Promise<Curve>;
  }

  global {
    /** ffjavascript's multi-threaded bn128 singleton; null once terminated or never built. */
    var curve_bn128: Curve | null | undefined;
  }
}
