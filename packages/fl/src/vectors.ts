/**
 * Flat parameter vectors: weights, updates (local − global) and their arithmetic. Sums run in
 * float64 and are stored as float32, the precision of the model.
 */

export function l2Norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    sum += x * x;
  }
  return Math.sqrt(sum);
}

/** a − b, element-wise. */
export function subtract(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) - (b[i] as number);
  return out;
}

/** a + scale · b, element-wise, as a new vector. */
export function addScaled(a: Float32Array, b: ArrayLike<number>, scale: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + scale * (b[i] as number);
  return out;
}

export function scaled(v: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * scale;
  return out;
}
