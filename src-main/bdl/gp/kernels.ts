/**
 * The squared-exponential (RBF) covariance, Rasmussen & Williams, "Gaussian Processes for
 * Machine Learning" (2006), eq. 2.16 / 4.9:
 *
 *   k(x, x') = σ_f² exp(−‖x − x'‖² / (2ℓ²))
 *
 * (isotropic: one lengthscale ℓ for all input dimensions). Inputs are row-major [N, D] arrays.
 */

export interface RbfParams {
  /** σ_f², the signal variance (sklearn ConstantKernel.constant_value). */
  signalVariance: number;
  /** ℓ (sklearn RBF.length_scale). */
  lengthscale: number;
}

/** Squared Euclidean distances ‖x_i − z_j‖² [N, M] for X [N, D], Z [M, D] (clamped at ≥ 0). */
export function squaredDistances(x: ArrayLike<number>, n: number, z: ArrayLike<number>, m: number, d: number): Float64Array {
  if (x.length !== n * d || z.length !== m * d) throw new Error(`squaredDistances: expected [${n}, ${d}] and [${m}, ${d}]`);
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    for (let j = 0; j < m; j++) {
      const zj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = x[xi + k] - z[zj + k];
        s += t * t;
      }
      out[i * m + j] = s;
    }
  }
  return out;
}

/** k(X, Z) [N, M] from squared distances [N, M]: σ_f² exp(−d²/(2ℓ²)). */
export function rbfFromSquaredDistances(d2: ArrayLike<number>, p: RbfParams): Float64Array {
  const out = new Float64Array(d2.length);
  const c = -0.5 / (p.lengthscale * p.lengthscale);
  for (let i = 0; i < d2.length; i++) out[i] = p.signalVariance * Math.exp(c * d2[i]);
  return out;
}

/** k(X, Z) [N, M] for X [N, D], Z [M, D]. */
export function rbfKernel(x: ArrayLike<number>, n: number, z: ArrayLike<number>, m: number, d: number, p: RbfParams): Float64Array {
  return rbfFromSquaredDistances(squaredDistances(x, n, z, m, d), p);
}
