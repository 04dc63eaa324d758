import { seededRng } from "@dpn/protocol";

/**
 * A fast seeded generator for the simulator: xoshiro128** (Blackman & Vigna, 2018), 128 bits of
 * state, seeded with four words of the protocol's auditable `seededRng` (SHA-256 counter mode,
 * docs/protocol.md §Purity and randomness). `seededRng` costs about 1 µs per float; the network
 * model draws tens of millions of numbers per simulated day, so it only derives the state here.
 * Same seed string → same stream, on every platform (only 32-bit integer operations).
 *
 * Floats have 32 random bits (`nextFloat` = word / 2^32), plenty for a model; they are never
 * token amounts.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal = Number.NaN;

  constructor(seed: string) {
    const rng = seededRng(seed);
    this.s0 = rng.nextUint32() | 0;
    this.s1 = rng.nextUint32() | 0;
    this.s2 = rng.nextUint32() | 0;
    this.s3 = rng.nextUint32() | 0;
    // The all-zero state is the generator's one fixed point; SHA-256 makes it practically
    // impossible, but a constant keeps the guarantee unconditional.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 0x9e3779b9 | 0;
  }

  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const product = Math.imul(s1, 5);
    const rotated = (product << 7) | (product >>> 25);
    const result = Math.imul(rotated, 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** A uniform float in [0, 1) with 32 random bits. */
  nextFloat(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** A uniform float in (0, 1]: safe under a logarithm. */
  nextOpenFloat(): number {
    return (this.nextUint32() + 1) / 4_294_967_296;
  }

  /** A uniform integer in [0, n) (n ≤ 2^32; the modulo bias is below 2^-32·n, fine for a model). */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept for the next call). */
  nextNormal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const spare = this.spareNormal;
      this.spareNormal = Number.NaN;
      return spare;
    }
    const radius = Math.sqrt(-2 * Math.log(this.nextOpenFloat()));
    const angle = 2 * Math.PI * this.nextFloat();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** A Poisson draw by inversion (Knuth); for the small means the models use (< 30). */
  nextPoisson(mean: number): number {
    if (mean <= 0) return 0;
    const limit = Math.exp(-mean);
    let k = 0;
    let product = this.nextFloat();
    while (product > limit) {
      k += 1;
      product *= this.nextFloat();
    }
    return k;
  }

  /** How many Bernoulli(p) failures before the next success: skips the slots nobody churns. */
  nextGeometric(p: number): number {
    if (p >= 1) return 0;
    if (p <= 0) return Number.POSITIVE_INFINITY;
    return Math.floor(Math.log(this.nextOpenFloat()) / Math.log1p(-p));
  }
}

/**
 * The seed of one Monte Carlo path: a function of the master seed and the path index only, so
 * results do not depend on how paths are spread over threads.
 */
export function pathSeed(masterSeed: string, pathIndex: number): string {
  return `${masterSeed}/path/${pathIndex}`;
}
