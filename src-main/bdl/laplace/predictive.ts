/**
 * Predictive approximations for Gaussian logits f ~ N(μ, Σ_f) under a softmax likelihood.
 *
 * - probit (MacKay 1992, "The evidence framework applied to classification networks", eq. 24 for
 *   the binary case σ(κ μ), κ = 1/√(1 + πσ²/8)); multi-class extension as laplace-torch's
 *   `link_approx='probit'` and the mean-field approximation of Lu, Hu, Harley & Liu ("Mean-field
 *   approximation to Gaussian-softmax integral with application to uncertainty estimation",
 *   2020): p ≈ softmax(μ_c / √(1 + π/8 · Σ_f,cc)). Deterministic; uses only the variances.
 * - mc: E[softmax(f)] by S draws f_s ~ N(μ, Σ_f) (diagonal or full per-point covariance).
 *
 * Plain TypeScript (float64); the posteriors use the same formulas on tensors.
 */
import { cholesky } from '../linalg/dense.ts';
import { standardNormal } from '../linalg/random.ts';

/** κ-scaled softmax: mean [N, C], variance [N, C] → probabilities [N, C]. */
export function probitSoftmax(mean: ArrayLike<number>, variance: ArrayLike<number>, n: number, c: number): Float64Array {
  if (mean.length !== n * c || variance.length !== n * c) throw new Error(`probitSoftmax: expected [${n}, ${c}] inputs`);
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let k = 0; k < c; k++) {
      const z = mean[r * c + k] / Math.sqrt(1 + (Math.PI / 8) * Math.max(variance[r * c + k], 0));
      out[r * c + k] = z;
      m = Math.max(m, z);
    }
    let s = 0;
    for (let k = 0; k < c; k++) s += out[r * c + k] = Math.exp(out[r * c + k] - m);
    for (let k = 0; k < c; k++) out[r * c + k] /= s;
  }
  return out;
}

/**
 * S Monte-Carlo samples softmax(f_s), f_s ~ N(μ_n, Σ_n) independently per point.
 * @param cov variances [N, C] (diagonal) or covariances [N, C, C] (full)
 * @returns probabilities [S, N, C]
 */
export function mcSoftmaxSamples(
  mean: ArrayLike<number>,
  cov: ArrayLike<number>,
  n: number,
  c: number,
  samples: number,
  seed: number,
): Float64Array {
  const full = cov.length === n * c * c && c > 1 && cov.length !== n * c;
  if (!full && cov.length !== n * c) throw new Error('mcSoftmaxSamples: cov must be [N, C] or [N, C, C]');
  const z = standardNormal(samples * n * c, seed);
  const out = new Float64Array(samples * n * c);
  const f = new Float64Array(c);
  for (let r = 0; r < n; r++) {
    let L: Float64Array | null = null;
    if (full) {
      const block = Float64Array.from({ length: c * c }, (_, i) => cov[r * c * c + i]);
      for (let k = 0; k < c; k++) block[k * c + k] += 1e-12;
      L = cholesky(block, c);
    }
    for (let s = 0; s < samples; s++) {
      const zo = (s * n + r) * c;
      for (let k = 0; k < c; k++) {
        if (L) {
          let v = 0;
          for (let j = 0; j <= k; j++) v += L[k * c + j] * z[zo + j];
          f[k] = mean[r * c + k] + v;
        } else {
          f[k] = mean[r * c + k] + Math.sqrt(Math.max(cov[r * c + k], 0)) * z[zo + k];
        }
      }
      let m = -Infinity;
      for (let k = 0; k < c; k++) m = Math.max(m, f[k]);
      let t = 0;
      for (let k = 0; k < c; k++) t += out[zo + k] = Math.exp(f[k] - m);
      for (let k = 0; k < c; k++) out[zo + k] /= t;
    }
  }
  return out;
}

/**
 * Least-squares probabilistic classification (Sugiyama 2010, IEICE Trans. Inf. & Syst. E93-D(10)):
 * a regression g_c(x) of one-hot targets estimates p(y = c | x) (the regression function of a
 * one-hot target IS the class posterior), mapped to the simplex by p_c ∝ max(g_c, 0) + ε.
 * Rows of g [N, C] → probabilities [N, C] (ε = 1e-4 keeps every class possible).
 */
export function lspcProbabilities(g: ArrayLike<number>, n: number, c: number, eps = 1e-4): Float64Array {
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += out[r * c + k] = Math.max(g[r * c + k], 0) + eps;
    for (let k = 0; k < c; k++) out[r * c + k] /= s;
  }
  return out;
}
