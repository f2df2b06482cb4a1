/**
 * Exact Gaussian-process regression by Cholesky, Rasmussen & Williams (2006), Algorithm 2.1:
 *
 *   L = chol(K + Σ_n),  α = Lᵀ \ (L \ y)
 *   mean  f̄* = k*ᵀ α                                       (eq. 2.25)
 *   var   V[f*] = k(x*, x*) − vᵀv,  v = L \ k*              (eq. 2.26)
 *   log p(y | X) = −½ yᵀα − Σ_i log L_ii − n/2 log 2π       (eq. 2.30)
 *
 * Σ_n is diagonal: σ_n² I (homoscedastic, learned) or a fixed per-point noise vector (used by the
 * Dirichlet label regression of `dkl`). Gradients of the log marginal likelihood w.r.t. the
 * log-hyper-parameters (eq. 5.9): ∂/∂θ_j = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ_j), with, for the RBF kernel
 * K = σ_f² R, R_ij = exp(−d_ij²/(2ℓ²)):
 *
 *   ∂K/∂log σ_f² = σ_f² R,   ∂K/∂log ℓ = σ_f² R ⊙ D²/ℓ²,   ∂K/∂log σ_n² = σ_n² I.
 *
 * Everything is float64, plain TypeScript (sizes up to ~1000 training points).
 */
import { choleskyInverse, choleskyJitter, logDetCholesky, solveLower, solveLowerT } from '../linalg/dense.ts';
import type { RbfParams } from './kernels.ts';

const LOG_2PI = Math.log(2 * Math.PI);

/** A fitted exact GP for one output (targets already centred by the prior mean). */
export interface ExactGpState {
  n: number;
  /** Cholesky factor of K + Σ_n [n, n]. */
  L: Float64Array;
  /** α = (K + Σ_n)⁻¹ y [n]. */
  alpha: Float64Array;
  /** log p(y | X, θ), eq. 2.30. */
  logMarginalLikelihood: number;
  /** Jitter that had to be added to the diagonal (0 normally). */
  jitter: number;
}

/**
 * Algorithm 2.1 of R&W for one output.
 * @param kxx K(X, X) [n, n] without noise
 * @param y targets [n] (minus the prior mean)
 * @param noise σ_n² (scalar) or per-point noise variances [n]
 */
export function exactGpFit(kxx: ArrayLike<number>, n: number, y: ArrayLike<number>, noise: number | ArrayLike<number>): ExactGpState {
  if (kxx.length !== n * n || y.length !== n) throw new Error(`exactGpFit: K must be [${n}, ${n}] and y [${n}]`);
  const k = Float64Array.from(kxx);
  for (let i = 0; i < n; i++) k[i * n + i] += typeof noise === 'number' ? noise : noise[i];
  const { L, jitter } = choleskyJitter(k, n);
  const alpha = solveLowerT(L, n, solveLower(L, n, y));
  let yAlpha = 0;
  for (let i = 0; i < n; i++) yAlpha += y[i] * alpha[i];
  const logMarginalLikelihood = -0.5 * yAlpha - 0.5 * logDetCholesky(L, n) - 0.5 * n * LOG_2PI;
  return { n, L, alpha, logMarginalLikelihood, jitter };
}

/**
 * Predictive of one fitted output at M test points.
 * @param kstar K(X*, X) [M, n]
 * @param kssDiag k(x*, x*) [M] (the prior variances, without noise)
 * @returns mean [M] (add the prior mean yourself), variance [M] of the latent f* (eq. 2.26),
 *   and, when `kss` (K(X*, X*) [M, M]) is given, the full covariance [M, M].
 */
export function exactGpPredict(
  s: ExactGpState,
  kstar: ArrayLike<number>,
  m: number,
  kssDiag: ArrayLike<number>,
  kss?: ArrayLike<number>,
): { mean: Float64Array; variance: Float64Array; covariance?: Float64Array } {
  const n = s.n;
  if (kstar.length !== m * n || kssDiag.length !== m) throw new Error(`exactGpPredict: K* must be [${m}, ${n}] and k** [${m}]`);
  const mean = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let t = 0;
    for (let j = 0; j < n; j++) t += kstar[i * n + j] * s.alpha[j];
    mean[i] = t;
  }
  // V = L \ K*ᵀ  [n, M]
  const kt = new Float64Array(n * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) kt[j * m + i] = kstar[i * n + j];
  const v = solveLower(s.L, n, kt, m);
  const variance = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let t = 0;
    for (let j = 0; j < n; j++) t += v[j * m + i] * v[j * m + i];
    variance[i] = Math.max(kssDiag[i] - t, 0);
  }
  if (!kss) return { mean, variance };
  if (kss.length !== m * m) throw new Error(`exactGpPredict: K** must be [${m}, ${m}]`);
  const covariance = Float64Array.from(kss);
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += v[j * m + a] * v[j * m + b];
      covariance[a * m + b] -= t;
    }
  return { mean, variance, covariance };
}

/** One output of a multi-output GP sharing the kernel: centred targets and noise. */
export interface GpOutputData {
  y: ArrayLike<number>;
  /** σ_n² for every point (scalar = homoscedastic). */
  noise: number | ArrayLike<number>;
}

/**
 * Σ_outputs log p(y_o | X, θ) and its gradient w.r.t. [log σ_f², log ℓ] (+ log σ_n² when
 * `learnNoise`: every output's noise must then be the scalar σ_n²), for independent outputs
 * sharing one RBF kernel.
 *
 * @param d2 squared distances between the training inputs [n, n]
 */
export function rbfLogMarginalLikelihood(
  d2: ArrayLike<number>,
  n: number,
  outputs: GpOutputData[],
  p: RbfParams,
  opts: { gradient?: boolean; learnNoise?: boolean } = {},
): { value: number; gradient: Float64Array } {
  if (d2.length !== n * n) throw new Error(`rbfLogMarginalLikelihood: D² must be [${n}, ${n}]`);
  const r = new Float64Array(n * n);
  const c = -0.5 / (p.lengthscale * p.lengthscale);
  for (let i = 0; i < n * n; i++) r[i] = Math.exp(c * d2[i]);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) k[i] = p.signalVariance * r[i];
  const grad = new Float64Array(opts.learnNoise ? 3 : 2);
  let value = 0;
  const invEll2 = 1 / (p.lengthscale * p.lengthscale);
  for (const out of outputs) {
    if (opts.learnNoise && typeof out.noise !== 'number') throw new Error('rbfLogMarginalLikelihood: learnNoise needs a scalar noise');
    const s = exactGpFit(k, n, out.y, out.noise);
    value += s.logMarginalLikelihood;
    if (!opts.gradient) continue;
    // W = ααᵀ − K⁻¹ (symmetric); ∂/∂θ = ½ Σ_ij W_ij ∂K_ij
    const kinv = choleskyInverse(s.L, n);
    let gSf = 0;
    let gEll = 0;
    let trW = 0;
    for (let i = 0; i < n; i++) {
      const ai = s.alpha[i];
      for (let j = 0; j < n; j++) {
        const w = ai * s.alpha[j] - kinv[i * n + j];
        const kij = k[i * n + j];
        gSf += w * kij;
        gEll += w * kij * d2[i * n + j] * invEll2;
      }
      trW += ai * ai - kinv[i * n + i];
    }
    grad[0] += 0.5 * gSf;
    grad[1] += 0.5 * gEll;
    if (opts.learnNoise) grad[2] += 0.5 * (out.noise as number) * trW;
  }
  return { value, gradient: grad };
}
