/**
 * Seeded standard-normal draws in float64 (Box & Muller 1958 on the library's Mulberry32 stream),
 * for sampling Gaussian posteriors (Laplace, Bayesian linear regression, GP latent functions).
 */
import { mulberry32 } from '../util/random.ts';

/** n independent N(0, 1) draws, reproducible for a given seed. */
export function standardNormal(n: number, seed: number): Float64Array {
  const rand = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    let u = rand();
    while (u <= 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
