/**
 * Bayesian linear regression in closed form (Bishop, Pattern Recognition and Machine Learning,
 * 2006, §3.3 and §3.5), for K outputs sharing the basis φ̃ = [φ; 1] ∈ R^{D+1}, the prior
 * w_k ~ N(0, α⁻¹ I) and the noise precision β:
 *
 *   S_N⁻¹ = α I + β Φ̃ᵀΦ̃                                         (eq. 3.54)
 *   m_k   = β S_N Φ̃ᵀ t_k       (M = [m_1 … m_K] = β S_N Φ̃ᵀ T)      (eq. 3.53)
 *   p(f* | x*) = N(m_kᵀ φ̃*, φ̃*ᵀ S_N φ̃*),  p(t*) adds 1/β          (eqs. 3.58–3.59)
 *   ln p(T | α, β) = Σ_k [ (D+1)/2 ln α + N/2 ln β − E(m_k) − ½ ln|S_N⁻¹| − N/2 ln 2π ]  (eq. 3.86)
 *
 * with E(m) = β/2 ‖t − Φ̃m‖² + α/2 mᵀm. α, β by evidence maximisation (§3.5.2, eqs. 3.91–3.95),
 * the K outputs pooled: γ = Σ_i λ_i/(α + λ_i) (λ_i eigenvalues of βΦ̃ᵀΦ̃), α = Kγ / ‖M‖_F²,
 * 1/β = ‖T − Φ̃M‖_F² / (K(N − γ)), iterated to convergence.
 */
import { addDiagonal, cholesky, choleskySolve, gram, logDetCholesky, solveLowerT } from '../linalg/dense.ts';
import { symEig } from '../linalg/eig.ts';
import { standardNormal } from '../linalg/random.ts';
import type { Features } from './linear.ts';

export interface BlrPosterior {
  /** Prior precision α and noise precision β. */
  alpha: number;
  beta: number;
  /** D + 1 (with the bias) and K. */
  dA: number;
  k: number;
  /** M [D+1, K] posterior means (column k = m_k). */
  mean: Float64Array;
  /** S_N⁻¹ [D+1, D+1] and its Cholesky factor. */
  precision: Float64Array;
  L: Float64Array;
  /** ln p(T | α, β) (eq. 3.86 summed over outputs). */
  logEvidence: number;
  /** γ at the final α, β. */
  effectiveParameters: number;
  iterations: number;
}

/** Φ̃ = [Φ, 1] [N, D+1]. */
export function withBias(f: Features): Float64Array {
  const { phi, n, d } = f;
  if (phi.length !== n * d) throw new Error(`withBias: expected [${n}, ${d}] features`);
  const out = new Float64Array(n * (d + 1));
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) out[r * (d + 1) + i] = phi[r * d + i];
    out[r * (d + 1) + d] = 1;
  }
  return out;
}

/**
 * The data enter the posterior and the evidence only through Φ̃ᵀΦ̃ [D+1, D+1], Φ̃ᵀT [D+1, K] and
 * ‖T‖², so they are computed once (O(N·D²)) and every α, β iteration costs O(D³), not O(N·D²).
 */
interface BlrStatistics {
  n: number;
  dA: number;
  k: number;
  XtX: Float64Array;
  XtT: Float64Array;
  tt: number;
}

function blrStatistics(f: Features, targets: ArrayLike<number>, k: number): BlrStatistics {
  const { n, d } = f;
  const dA = d + 1;
  if (targets.length !== n * k) throw new Error(`blrPosterior: targets must be [${n}, ${k}]`);
  const X = withBias(f);
  const XtT = new Float64Array(dA * k);
  let tt = 0;
  for (let r = 0; r < n; r++)
    for (let c = 0; c < k; c++) {
      const t = targets[r * k + c];
      tt += t * t;
      if (t === 0) continue;
      for (let i = 0; i < dA; i++) XtT[i * k + c] += X[r * dA + i] * t;
    }
  return { n, dA, k, XtX: gram(X, n, dA), XtT, tt };
}

/** ‖T − Φ̃M‖²_F = ‖T‖² − 2⟨M, Φ̃ᵀT⟩ + ⟨M, Φ̃ᵀΦ̃ M⟩ (clamped at 0 against rounding). */
function squaredError(st: BlrStatistics, mean: Float64Array): number {
  const { dA, k, XtX, XtT } = st;
  let cross = 0;
  let quad = 0;
  for (let i = 0; i < dA; i++)
    for (let c = 0; c < k; c++) {
      cross += mean[i * k + c] * XtT[i * k + c];
      let g = 0;
      for (let j = 0; j < dA; j++) g += XtX[i * dA + j] * mean[j * k + c];
      quad += mean[i * k + c] * g;
    }
  return Math.max(0, st.tt - 2 * cross + quad);
}

function posteriorFromStatistics(st: BlrStatistics, alpha: number, beta: number): BlrPosterior {
  const { n, dA, k } = st;
  if (!(alpha > 0 && beta > 0)) throw new Error(`blrPosterior: α and β must be > 0 (got ${alpha}, ${beta})`);
  const precision = addDiagonal(st.XtX.map((v) => beta * v), dA, alpha);
  const L = cholesky(precision, dA);
  const mean = choleskySolve(L, dA, st.XtT.map((v) => beta * v), k);
  const sqErr = squaredError(st, mean);
  let mm = 0;
  for (const v of mean) mm += v * v;
  const logDetA = logDetCholesky(L, dA);
  const logEvidence =
    k * (0.5 * dA * Math.log(alpha) + 0.5 * n * Math.log(beta) - 0.5 * logDetA - 0.5 * n * Math.log(2 * Math.PI)) - 0.5 * beta * sqErr - 0.5 * alpha * mm;
  return { alpha, beta, dA, k, mean, precision, L, logEvidence, effectiveParameters: NaN, iterations: 0 };
}

/**
 * Posterior for given α, β (eqs. 3.53–3.54) and its log evidence (eq. 3.86).
 * @param targets T [N, K] row-major
 */
export function blrPosterior(f: Features, targets: ArrayLike<number>, k: number, alpha: number, beta: number): BlrPosterior {
  return posteriorFromStatistics(blrStatistics(f, targets, k), alpha, beta);
}

/**
 * Fits α, β by evidence maximisation (PRML §3.5.2), from `alpha`, `beta` (defaults 1, 1/var(T)),
 * unless `optimize` is false; `fixAlpha` keeps α (e.g. a user-given prior precision) and only
 * re-estimates β.
 */
export function fitBlr(
  f: Features,
  targets: ArrayLike<number>,
  k: number,
  opts: { alpha?: number; beta?: number; optimize?: boolean; fixAlpha?: boolean; maxIter?: number; tol?: number } = {},
): BlrPosterior {
  const { n } = f;
  let alpha = opts.alpha ?? 1;
  let beta = opts.beta;
  if (beta === undefined) {
    let m = 0;
    for (let i = 0; i < targets.length; i++) m += targets[i];
    m /= Math.max(1, targets.length);
    let v = 0;
    for (let i = 0; i < targets.length; i++) v += (targets[i] - m) ** 2;
    v /= Math.max(1, targets.length);
    beta = 1 / Math.max(v, 1e-6);
  }
  const st = blrStatistics(f, targets, k);
  if (!(opts.optimize ?? true)) return posteriorFromStatistics(st, alpha, beta);
  const dA = st.dA;
  const eigXtX = symEig(st.XtX, dA, { vectors: false }).values.map((v) => Math.max(v, 0));
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-10;
  let post = posteriorFromStatistics(st, alpha, beta);
  let gamma = NaN;
  let it = 0;
  for (; it < maxIter; it++) {
    gamma = 0;
    for (const l of eigXtX) gamma += (beta * l) / (alpha + beta * l);
    let mm = 0;
    for (const v of post.mean) mm += v * v;
    const sqErr = squaredError(st, post.mean);
    const alphaNew = opts.fixAlpha ? alpha : Math.min(1e10, Math.max(1e-10, (k * gamma) / Math.max(mm, 1e-300)));
    const betaNew = Math.min(1e10, Math.max(1e-10, (k * Math.max(n - gamma, 1e-12)) / Math.max(sqErr, 1e-300)));
    const change = Math.abs(Math.log(alphaNew / alpha)) + Math.abs(Math.log(betaNew / beta));
    alpha = alphaNew;
    beta = betaNew;
    post = posteriorFromStatistics(st, alpha, beta);
    if (change < tol) {
      it++;
      break;
    }
  }
  gamma = 0;
  for (const l of eigXtX) gamma += (beta * l) / (alpha + beta * l);
  return { ...post, effectiveParameters: gamma, iterations: it };
}

/** Latent predictive at Φ* [M, D]: means [M, K] and the shared variance φ̃ᵀS_Nφ̃ [M] (eq. 3.59 without 1/β). */
export function blrPredict(post: BlrPosterior, f: Features): { mean: Float64Array; variance: Float64Array } {
  const { n, d } = f;
  const dA = d + 1;
  if (dA !== post.dA) throw new Error(`blrPredict: features have D = ${d}, posterior ${post.dA - 1}`);
  const X = withBias(f);
  const mean = new Float64Array(n * post.k);
  const variance = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const x = X.subarray(r * dA, (r + 1) * dA);
    for (let c = 0; c < post.k; c++) {
      let y = 0;
      for (let i = 0; i < dA; i++) y += x[i] * post.mean[i * post.k + c];
      mean[r * post.k + c] = y;
    }
    // φ̃ᵀ S_N φ̃ = ‖L⁻¹φ̃‖²
    let v = 0;
    const L = post.L;
    const z = new Float64Array(dA);
    for (let i = 0; i < dA; i++) {
      let s = x[i];
      for (let j = 0; j < i; j++) s -= L[i * dA + j] * z[j];
      z[i] = s / L[i * dA + i];
      v += z[i] * z[i];
    }
    variance[r] = v;
  }
  return { mean, variance };
}

/** S weight draws W_s ~ p(W | T) [S, D+1, K]: W_s = M + L⁻ᵀ Z_s, Z_s ~ N(0, I) [D+1, K]. */
export function blrSampleWeights(post: BlrPosterior, samples: number, seed: number): Float64Array {
  const { dA, k } = post;
  const out = new Float64Array(samples * dA * k);
  const z = standardNormal(samples * dA * k, seed);
  for (let s = 0; s < samples; s++) {
    const noise = solveLowerT(post.L, dA, z.subarray(s * dA * k, (s + 1) * dA * k), k);
    for (let i = 0; i < dA * k; i++) out[s * dA * k + i] = post.mean[i] + noise[i];
  }
  return out;
}
