/**
 * Laplace machinery for a LINEAR layer on fixed features (the last layer of a network, or a
 * generalised linear model): outputs f_n = W̃ᵀ φ̃_n, φ̃_n = [φ_n; 1] ∈ R^{D+1}, W̃ = [W; bᵀ] of
 * shape [D+1, C], parameters θ = vec_r(W̃) (index i·C + c, i.e. the kernel row-major then the
 * bias — the layout of a Keras Dense layer's [kernel, bias]).
 *
 * Likelihoods: 'categorical' (softmax; targets = class indices) and 'gaussian' (targets [N, C],
 * noise variance σ²). The Jacobian of f_n w.r.t. θ is J_n = φ̃_nᵀ ⊗ I_C, so the GGN
 * (Martens 2014; Schraudolph 2002) is
 *
 *   H = Σ_n J_nᵀ Λ_n J_n = Σ_n (φ̃_n φ̃_nᵀ) ⊗ Λ_n,
 *   Λ_n = diag(p_n) − p_n p_nᵀ (categorical, p_n = softmax f_n),  Λ_n = I/σ² (gaussian),
 *
 * equal to the exact Hessian of the negative log likelihood here (the model is linear in θ and
 * both links are canonical). Structures: 'full' (exact), 'diag' (its diagonal), 'kron'
 * (KFAC: H ≈ (Σ_n φ̃φ̃ᵀ) ⊗ (1/N Σ_n Λ_n), Martens & Grosse 2015, exact for the gaussian case).
 */
import { invertLower, transpose } from '../linalg/dense.ts';
import { minimizeLbfgs } from '../linalg/lbfgs.ts';
import { kronBlock, type CurvatureBlock, type CurvatureStructure, type PreparedBlock } from './curvature.ts';

export type Likelihood = 'categorical' | 'gaussian';

/** Features Φ [N, D] row-major (the bias column is implicit). */
export interface Features {
  phi: ArrayLike<number>;
  n: number;
  d: number;
}

/** Targets: class indices [N] (categorical) or values [N, C] row-major with σ² (gaussian). */
export type Targets = { likelihood: 'categorical'; labels: ArrayLike<number> } | { likelihood: 'gaussian'; values: ArrayLike<number>; sigma2: number };

function checkFeatures(f: Features): void {
  if (f.phi.length !== f.n * f.d) throw new Error(`features: expected [${f.n}, ${f.d}], got ${f.phi.length} values`);
}

/** F [N, C] = Φ̃ W̃ for W̃ [D+1, C]. */
export function linearForward(f: Features, w: ArrayLike<number>, c: number): Float64Array {
  checkFeatures(f);
  const { phi, n, d } = f;
  if (w.length !== (d + 1) * c) throw new Error(`linearForward: W̃ must be [${d + 1}, ${c}]`);
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    const o = r * c;
    for (let k = 0; k < c; k++) out[o + k] = w[d * c + k];
    for (let i = 0; i < d; i++) {
      const x = phi[r * d + i];
      if (x === 0) continue;
      const wi = i * c;
      for (let k = 0; k < c; k++) out[o + k] += x * w[wi + k];
    }
  }
  return out;
}

/** Row-wise softmax of F [N, C] (stable). */
export function softmaxRows(f: ArrayLike<number>, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let k = 0; k < c; k++) m = Math.max(m, f[r * c + k]);
    let s = 0;
    for (let k = 0; k < c; k++) s += out[r * c + k] = Math.exp(f[r * c + k] - m);
    for (let k = 0; k < c; k++) out[r * c + k] /= s;
  }
  return out;
}

/**
 * log p(targets | F) summed over N, and ∂/∂F [N, C].
 * categorical: Σ_n log softmax(f_n)[y_n]; gaussian: Σ −‖t − f‖²/(2σ²) − C/2 log 2πσ².
 */
export function logLikelihood(fOut: ArrayLike<number>, n: number, c: number, t: Targets): { value: number; dF: Float64Array } {
  const dF = new Float64Array(n * c);
  let value = 0;
  if (t.likelihood === 'categorical') {
    for (let r = 0; r < n; r++) {
      let m = -Infinity;
      for (let k = 0; k < c; k++) m = Math.max(m, fOut[r * c + k]);
      let s = 0;
      for (let k = 0; k < c; k++) s += Math.exp(fOut[r * c + k] - m);
      const lse = m + Math.log(s);
      const y = t.labels[r];
      if (!(Number.isInteger(y) && y >= 0 && y < c)) throw new Error(`label ${y} at ${r} is not in [0, ${c})`);
      value += fOut[r * c + y] - lse;
      for (let k = 0; k < c; k++) dF[r * c + k] = (k === y ? 1 : 0) - Math.exp(fOut[r * c + k] - lse);
    }
  } else {
    const { values, sigma2 } = t;
    if (values.length !== n * c) throw new Error(`gaussian targets must be [${n}, ${c}]`);
    let sq = 0;
    for (let i = 0; i < n * c; i++) {
      const e = values[i] - fOut[i];
      sq += e * e;
      dF[i] = e / sigma2;
    }
    value = -sq / (2 * sigma2) - 0.5 * n * c * Math.log(2 * Math.PI * sigma2);
  }
  return { value, dF };
}

/** Φ̃ᵀ M [D+1, C] for M [N, C]. */
function featuresTransposeTimes(f: Features, m: ArrayLike<number>, c: number): Float64Array {
  const { phi, n, d } = f;
  const out = new Float64Array((d + 1) * c);
  for (let r = 0; r < n; r++) {
    const mr = r * c;
    for (let i = 0; i < d; i++) {
      const x = phi[r * d + i];
      if (x === 0) continue;
      for (let k = 0; k < c; k++) out[i * c + k] += x * m[mr + k];
    }
    for (let k = 0; k < c; k++) out[d * c + k] += m[mr + k];
  }
  return out;
}

export interface LinearMap {
  /** W̃* [D+1, C]. */
  w: Float64Array;
  /** log p(D | θ*) (summed). */
  logLikelihood: number;
  /** −log p(D | θ*) + τ/2 ‖θ*‖² at the optimum. */
  objective: number;
  iterations: number;
  converged: boolean;
}

/**
 * MAP of the linear model under the prior θ ~ N(0, τ⁻¹ I): minimises −log p(D|θ) + τ/2‖θ‖² by
 * L-BFGS (the objective is strictly convex for τ > 0).
 */
export function fitLinearMap(
  f: Features,
  t: Targets,
  c: number,
  priorPrecision: number,
  opts: { init?: ArrayLike<number>; maxIter?: number; gtol?: number } = {},
): LinearMap {
  checkFeatures(f);
  if (!(priorPrecision > 0)) throw new Error(`fitLinearMap: priorPrecision must be > 0, got ${priorPrecision}`);
  const P = (f.d + 1) * c;
  const x0 = opts.init ? Float64Array.from(opts.init) : new Float64Array(P);
  if (x0.length !== P) throw new Error(`fitLinearMap: init must have ${P} values`);
  const objective = (w: Float64Array) => {
    const F = linearForward(f, w, c);
    const ll = logLikelihood(F, f.n, c, t);
    const g = featuresTransposeTimes(f, ll.dF, c);
    let sq = 0;
    for (let i = 0; i < P; i++) {
      sq += w[i] * w[i];
      g[i] = -g[i] + priorPrecision * w[i];
    }
    return { value: -ll.value + 0.5 * priorPrecision * sq, gradient: g };
  };
  const r = minimizeLbfgs(objective, x0, { maxIter: opts.maxIter ?? 1000, gtol: opts.gtol ?? 1e-7, ftol: 1e-15, memory: 20 });
  const F = linearForward(f, r.x, c);
  return { w: r.x, logLikelihood: logLikelihood(F, f.n, c, t).value, objective: r.f, iterations: r.iterations, converged: r.converged };
}

/**
 * GGN of −log p(D | θ) w.r.t. θ = vec_r(W̃) at outputs F [N, C] (logits for 'categorical').
 */
export function linearGgn(f: Features, fOut: ArrayLike<number>, c: number, t: Targets, structure: CurvatureStructure): CurvatureBlock {
  checkFeatures(f);
  const { phi, n, d } = f;
  const dA = d + 1;
  const P = dA * c;
  const phiT = (r: number, i: number) => (i === d ? 1 : phi[r * d + i]);
  // Λ_n as a function returning the C×C entries
  const probs = t.likelihood === 'categorical' ? softmaxRows(fOut, n, c) : null;
  const invS2 = t.likelihood === 'gaussian' ? 1 / t.sigma2 : 0;
  const lambda = (r: number, a: number, b: number) => {
    if (!probs) return a === b ? invS2 : 0;
    const pa = probs[r * c + a];
    return (a === b ? pa : 0) - pa * probs[r * c + b];
  };
  if (structure === 'diag') {
    const h = new Float64Array(P);
    for (let r = 0; r < n; r++)
      for (let i = 0; i < dA; i++) {
        const x = phiT(r, i);
        if (x === 0) continue;
        for (let k = 0; k < c; k++) h[i * c + k] += x * x * lambda(r, k, k);
      }
    return { structure: 'diag', P, h };
  }
  if (structure === 'kron') {
    const A = new Float64Array(dA * dA);
    const G = new Float64Array(c * c);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < dA; i++) {
        const x = phiT(r, i);
        if (x === 0) continue;
        for (let j = i; j < dA; j++) A[i * dA + j] += x * phiT(r, j);
      }
      for (let a = 0; a < c; a++) for (let b = 0; b < c; b++) G[a * c + b] += lambda(r, a, b) / n;
    }
    for (let i = 0; i < dA; i++) for (let j = 0; j < i; j++) A[i * dA + j] = A[j * dA + i];
    return kronBlock(A, dA, G, c);
  }
  // full: H_{(i,a),(j,b)} = Σ_n φ̃_ni φ̃_nj Λ_n,ab — one weighted Gram matrix per (a, b) pair
  const H = new Float64Array(P * P);
  const wts = new Float64Array(n);
  for (let a = 0; a < c; a++)
    for (let b = a; b < c; b++) {
      for (let r = 0; r < n; r++) wts[r] = lambda(r, a, b);
      for (let r = 0; r < n; r++) {
        const wr = wts[r];
        if (wr === 0) continue;
        for (let i = 0; i < dA; i++) {
          const xi = phiT(r, i) * wr;
          if (xi === 0) continue;
          const row = (i * c + a) * P;
          for (let j = 0; j < dA; j++) H[row + j * c + b] += xi * phiT(r, j);
        }
      }
    }
  // fill the (b, a) blocks by symmetry: H_{(i,b),(j,a)} = H_{(j,a),(i,b)}
  for (let a = 0; a < c; a++)
    for (let b = a + 1; b < c; b++)
      for (let i = 0; i < dA; i++) for (let j = 0; j < dA; j++) H[(i * c + b) * P + j * c + a] = H[(j * c + a) * P + i * c + b];
  return { structure: 'full', P, H };
}

/**
 * Linearised (GLM) predictive of the linear layer at features Φ* [M, D]: logits mean W̃*ᵀφ̃ and
 * covariance J Σ Jᵀ = (φ̃ᵀ ⊗ I) Σ (φ̃ ⊗ I) (Immer, Korzepa & Bauer, AISTATS 2021). Exact, since the
 * layer is linear in θ. Returns the variances [M, C] and, with `full`, covariances [M, C, C].
 */
export function linearGlmPredictive(
  prepared: PreparedBlock,
  w: ArrayLike<number>,
  f: Features,
  c: number,
  opts: { full?: boolean } = {},
): { mean: Float64Array; variance: Float64Array; covariance?: Float64Array } {
  checkFeatures(f);
  const { n, d } = f;
  const dA = d + 1;
  const b = prepared.block;
  if (b.P !== dA * c) throw new Error(`linearGlmPredictive: block has ${b.P} parameters, expected ${dA}·${c}`);
  const mean = linearForward(f, w, c);
  const variance = new Float64Array(n * c);
  const covariance = opts.full ? new Float64Array(n * c * c) : undefined;
  const phiRow = (r: number) => {
    const x = new Float64Array(dA);
    for (let i = 0; i < d; i++) x[i] = f.phi[r * d + i];
    x[d] = 1;
    return x;
  };
  if (b.structure === 'diag') {
    const v = prepared.varianceDiagonal();
    for (let r = 0; r < n; r++) {
      const x = phiRow(r);
      for (let k = 0; k < c; k++) {
        let s = 0;
        for (let i = 0; i < dA; i++) s += x[i] * x[i] * v[i * c + k];
        variance[r * c + k] = s;
        if (covariance) covariance[(r * c + k) * c + k] = s;
      }
    }
  } else if (b.structure === 'kron') {
    const r = b.eigA.values.length;
    const U = b.eigA.vectors; // [dA, r]
    const qg = b.eigG.vectors;
    const tau = prepared.priorPrecision;
    for (let row = 0; row < n; row++) {
      const x = phiRow(row);
      // â = Uᵀ φ̃, w_j = Σ_i â_i² / (λ_i μ_j + τ) + (‖φ̃‖² − ‖â‖²)/τ, Σ_f = Q_G diag(w) Q_Gᵀ
      const wj = new Float64Array(c);
      let rest = 0;
      for (let k = 0; k < dA; k++) rest += x[k] * x[k];
      for (let i = 0; i < r; i++) {
        let ai = 0;
        for (let k = 0; k < dA; k++) ai += U[k * r + i] * x[k];
        const a2 = ai * ai;
        rest -= a2;
        for (let j = 0; j < c; j++) wj[j] += a2 / (b.eigA.values[i] * b.eigG.values[j] + tau);
      }
      rest = Math.max(rest, 0);
      for (let j = 0; j < c; j++) wj[j] += rest / tau;
      for (let k = 0; k < c; k++)
        for (let k2 = 0; k2 < c; k2++) {
          if (!covariance && k2 !== k) continue;
          let s = 0;
          for (let j = 0; j < c; j++) s += qg[k * c + j] * qg[k2 * c + j] * wj[j];
          if (k === k2) variance[row * c + k] = s;
          if (covariance) covariance[(row * c + k) * c + k2] = s;
        }
    }
  } else {
    // Σ = U Uᵀ with U = L⁻ᵀ; T = (φ̃ᵀ ⊗ I) U [C, P]; Σ_f = T Tᵀ
    const L = prepared.cholesky!;
    const P = b.P;
    const U = transpose(invertLower(L, P), P, P);
    const T = new Float64Array(c * P);
    for (let r = 0; r < n; r++) {
      const x = phiRow(r);
      T.fill(0);
      for (let i = 0; i < dA; i++) {
        const xi = x[i];
        if (xi === 0) continue;
        for (let k = 0; k < c; k++) {
          const row = (i * c + k) * P;
          const tk = k * P;
          for (let q = 0; q < P; q++) T[tk + q] += xi * U[row + q];
        }
      }
      for (let k = 0; k < c; k++)
        for (let k2 = 0; k2 < c; k2++) {
          if (!covariance && k2 !== k) continue;
          let s = 0;
          for (let q = 0; q < P; q++) s += T[k * P + q] * T[k2 * P + q];
          if (k === k2) variance[r * c + k] = s;
          if (covariance) covariance[(r * c + k) * c + k2] = s;
        }
    }
  }
  return covariance ? { mean, variance, covariance } : { mean, variance };
}

/** ‖θ‖² of a parameter vector. */
export function squaredNorm(w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * w[i];
  return s;
}
