/**
 * Laplace approximation of the log marginal likelihood (evidence) and its maximisation over the
 * prior precision τ (MacKay 1992, "A practical Bayesian framework for backpropagation networks";
 * Immer et al. 2021; laplace-torch's `log_marginal_likelihood` / `optimize_prior_precision(method=
 * 'marglik')`):
 *
 *   log p(D | τ) ≈ log p(D | θ*) + log p(θ* | τ) + P/2 log 2π − ½ log det(H + τI)
 *               = log p(D | θ*) + P/2 log τ − τ/2 ‖θ*‖² − ½ Σ_p log(λ_p + τ)
 *
 * with λ_p the eigenvalues of the GGN H (of the structure used: full, diag, or Kronecker λ_i μ_j)
 * and θ* fixed (post hoc). Its derivative in log τ,
 *
 *   ∂/∂log τ = ½ (γ(τ) − τ‖θ*‖²),  γ(τ) = Σ_p λ_p / (λ_p + τ)  (effective number of parameters),
 *
 * is strictly decreasing in τ, so the maximum is unique: the root of γ(τ) = τ‖θ*‖² (MacKay's
 * fixed point τ = γ/‖θ*‖²), found here by bisection on log τ (a 1-D search to machine precision).
 */

export interface MarglikTerms {
  /** log p(D | θ*), summed over the training set. */
  logLikelihood: number;
  /** ‖θ*‖² of the parameters with a Laplace posterior (prior mean 0). */
  thetaSquaredNorm: number;
  /** Eigenvalues of the GGN H (P values, ≥ 0). */
  eigenvalues: ArrayLike<number>;
}

/** log p(D | τ) by the Laplace approximation (see module doc). */
export function laplaceLogMarginalLikelihood(t: MarglikTerms, priorPrecision: number): number {
  const tau = priorPrecision;
  if (!(tau > 0)) throw new Error(`logMarginalLikelihood: priorPrecision must be > 0, got ${tau}`);
  const P = t.eigenvalues.length;
  let logDet = 0;
  for (let i = 0; i < P; i++) logDet += Math.log(Math.max(t.eigenvalues[i], 0) + tau);
  return t.logLikelihood + 0.5 * P * Math.log(tau) - 0.5 * tau * t.thetaSquaredNorm - 0.5 * logDet;
}

/** γ(τ) = Σ λ/(λ + τ), the effective number of well-determined parameters (MacKay 1992). */
export function effectiveParameters(eigenvalues: ArrayLike<number>, priorPrecision: number): number {
  let g = 0;
  for (let i = 0; i < eigenvalues.length; i++) {
    const l = Math.max(eigenvalues[i], 0);
    g += l / (l + priorPrecision);
  }
  return g;
}

export interface PriorPrecisionResult {
  priorPrecision: number;
  logMarginalLikelihood: number;
  /** γ at the optimum. */
  effectiveParameters: number;
  /** True when the optimum is at a bound of the search interval. */
  atBound: boolean;
}

/**
 * τ* = argmax_τ log p(D | τ) over [lower, upper] (default [1e-8, 1e8]) by bisection of the
 * derivative on log τ.
 */
export function optimizePriorPrecision(t: MarglikTerms, opts: { lower?: number; upper?: number } = {}): PriorPrecisionResult {
  const lo0 = opts.lower ?? 1e-8;
  const hi0 = opts.upper ?? 1e8;
  if (!(lo0 > 0 && hi0 > lo0)) throw new Error(`optimizePriorPrecision: bad interval [${lo0}, ${hi0}]`);
  const g = (tau: number) => effectiveParameters(t.eigenvalues, tau) - tau * t.thetaSquaredNorm;
  let lo = Math.log(lo0);
  let hi = Math.log(hi0);
  let tau: number;
  let atBound = false;
  if (g(lo0) <= 0) {
    tau = lo0;
    atBound = true;
  } else if (g(hi0) >= 0) {
    tau = hi0;
    atBound = true;
  } else {
    for (let k = 0; k < 200 && hi - lo > 1e-13; k++) {
      const mid = 0.5 * (lo + hi);
      if (g(Math.exp(mid)) > 0) lo = mid;
      else hi = mid;
    }
    tau = Math.exp(0.5 * (lo + hi));
  }
  return {
    priorPrecision: tau,
    logMarginalLikelihood: laplaceLogMarginalLikelihood(t, tau),
    effectiveParameters: effectiveParameters(t.eigenvalues, tau),
    atBound,
  };
}
