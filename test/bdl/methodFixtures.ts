/** Fixtures shared by the tests of the training-based methods (ensemble, VI, IVON, SGLD). */
import assert from 'node:assert/strict';
import { gaussianSource } from '../../src-main/bdl/optim/sgld.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';

/** Two easy classes at 28×28×1: a bright bar in the top half (0) or in the bottom half (1). */
export function bars(n: number, seed: number): { x: Uint8Array; y: Int32Array } {
  const rand = mulberry32(seed);
  const x = new Uint8Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    const row0 = y[i] === 0 ? 3 + Math.floor(rand() * 8) : 16 + Math.floor(rand() * 8);
    for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.floor(rand() * 40);
    for (let r = row0; r < row0 + 3; r++) for (let c = 4; c < 24; c++) x[i * 784 + r * 28 + c] = 200 + Math.floor(rand() * 55);
  }
  return { x, y };
}

/** Accuracy of the predictive mean over the S samples. */
export function accuracy(p: { probs: Float32Array; shape: [number, number, number] }, y: Int32Array): number {
  const [S, N, C] = p.shape;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestP = -1;
    for (let c = 0; c < C; c++) {
      let m = 0;
      for (let s = 0; s < S; s++) m += p.probs[(s * N + n) * C + c];
      if (m > bestP) [best, bestP] = [c, m];
    }
    if (best === y[n]) correct++;
  }
  return correct / N;
}

export function assertRowsSumToOne(p: { probs: Float32Array; shape: [number, number, number] }): void {
  const [S, N, C] = p.shape;
  for (let r = 0; r < S * N; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += p.probs[r * C + c];
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
  }
}

/**
 * Bayesian logistic regression p(y = 1 | x, w) = σ(wᵀx), w ∈ ℝ², prior N(0, I/τ): N = 40 points
 * x ~ N(0, I), y ~ Bernoulli(σ(1.5 x₁ − x₂)). Exact posterior mean and marginal variances by
 * integrating on a 401 × 401 grid over [−5, 5]² (the posterior sd is ≈ 0.4, so the grid error is
 * negligible).
 */
export function logisticProblem(tau = 1, n = 40) {
  const g = gaussianSource(mulberry32(5));
  const u = mulberry32(6);
  const X = new Float32Array(n * 2);
  const Y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    X[2 * i] = g();
    X[2 * i + 1] = g();
    Y[i] = u() < 1 / (1 + Math.exp(-(1.5 * X[2 * i] - X[2 * i + 1]))) ? 1 : 0;
  }
  const lo = -5;
  const step = 0.025;
  const G = 401;
  const lp = new Float64Array(G * G);
  let mx = -Infinity;
  for (let a = 0; a < G; a++) {
    for (let b = 0; b < G; b++) {
      const w0 = lo + a * step;
      const w1 = lo + b * step;
      let l = -0.5 * tau * (w0 * w0 + w1 * w1);
      for (let i = 0; i < n; i++) {
        const f = w0 * X[2 * i] + w1 * X[2 * i + 1];
        l += Y[i] * f - (f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f)));
      }
      lp[a * G + b] = l;
      mx = Math.max(mx, l);
    }
  }
  let Z = 0;
  const m = [0, 0];
  const s = [0, 0];
  for (let a = 0; a < G; a++) {
    for (let b = 0; b < G; b++) {
      const p = Math.exp(lp[a * G + b] - mx);
      const w = [lo + a * step, lo + b * step];
      Z += p;
      for (const j of [0, 1]) {
        m[j] += p * w[j];
        s[j] += p * w[j] * w[j];
      }
    }
  }
  const mean = m.map((v) => v / Z);
  const variance = s.map((v, j) => v / Z - mean[j] * mean[j]);
  return { X, Y, n, tau, mean, variance };
}


/**
 * Two classes at 28×28×3 whose label is in one channel only: every channel holds a bright bar in the
 * top or bottom half, in `signal` it is the class (top = 0), in the others a coin flip.
 */
export function channelBars(n: number, seed: number, signal: number): { x: Uint8Array; y: Int32Array } {
  const rand = mulberry32(seed);
  const per = 28 * 28 * 3;
  const x = new Uint8Array(n * per);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let ch = 0; ch < 3; ch++) {
      const top = ch === signal ? y[i] === 0 : rand() < 0.5;
      const row0 = top ? 3 + Math.floor(rand() * 8) : 16 + Math.floor(rand() * 8);
      for (let p = 0; p < 784; p++) x[i * per + p * 3 + ch] = Math.floor(rand() * 40);
      for (let r = row0; r < row0 + 3; r++) for (let c = 4; c < 24; c++) x[i * per + (r * 28 + c) * 3 + ch] = 200 + Math.floor(rand() * 55);
    }
  }
  return { x, y };
}
