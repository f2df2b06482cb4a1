/**
 * Small seeded pseudo-random utilities shared by the BDL library.
 *
 * Everything that is random in `bdl` (weight initialisation, shuffling, dropout masks, the
 * `random` acquisition) draws from a stream derived from a user seed, so a run is reproducible
 * given `seed` (on one backend; different backends sum in different orders).
 */

/** Mulberry32: a fast 32-bit PRNG (T. Ettinger, public domain). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SplitMix32-style hash: derives an independent child seed from (seed, stream). */
export function deriveSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(stream >>> 0, 0x85ebca6b) + 0x6a09e667) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A stateful stream of child seeds: `next()` returns a fresh 32-bit seed each call. */
export class SeedStream {
  private counter = 0;
  constructor(readonly seed: number) {}
  next(): number {
    return deriveSeed(this.seed, this.counter++);
  }
}

/** In-place Fisher–Yates shuffle of `a` with the given uniform generator. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(a: T, rand: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** A random permutation of 0..n-1 as an Int32Array. */
export function permutation(n: number, seed: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return shuffleInPlace(idx, mulberry32(seed));
}

/** Default seed used when the caller gives none. */
export const DEFAULT_SEED = 42;
