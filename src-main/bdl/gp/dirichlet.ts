/**
 * GP classification by Dirichlet-based label regression (Milios, Camoriano, Michiardi, Rosasco &
 * Filippone, "Dirichlet-based Gaussian Processes for Large-scale Calibrated Classification",
 * NeurIPS 2018, §4):
 *
 * A one-hot label y is read as a Dirichlet observation with concentrations α_c = 1[y = c] + α_ε;
 * each Gamma(α_c, 1) marginal is approximated by a log-normal, giving for every class c an exact
 * GP regression problem on the latent log-concentration f_c with heteroscedastic Gaussian noise:
 *
 *   σ̃²_c = log(1/α_c + 1),  ỹ_c = log α_c − σ̃²_c / 2,   ỹ_c = f_c(x) + ε,  ε ~ N(0, σ̃²_c)
 *
 * and the class probabilities are p(y | x) = E[softmax(f(x))] (samples of the latent GPs pushed
 * through the softmax, or the probit approximation). One independent GP per class, sharing the
 * RBF kernel hyper-parameters (σ_f², ℓ), each with a constant prior mean m_c = mean(ỹ_c).
 *
 * Hyper-parameters maximise Σ_c log p(ỹ_c | X, σ_f², ℓ) (R&W eq. 2.30, gradients eq. 5.9) on a
 * random subset of ≤ `hyperPoints` training points (subset of data, R&W §8.3.1), by L-BFGS in
 * log-space from the median-distance heuristic plus random restarts; the posterior then uses
 * ≤ `maxPoints` points. Plain TypeScript, float64.
 */
import { choleskyInverse } from '../linalg/dense.ts';
import { minimizeLbfgs } from '../linalg/lbfgs.ts';
import { mulberry32, permutation } from '../util/random.ts';
import { exactGpFit, exactGpPredict, rbfLogMarginalLikelihood, type ExactGpState, type GpOutputData } from './exact.ts';
import { rbfFromSquaredDistances, squaredDistances, type RbfParams } from './kernels.ts';

export interface DirichletTargets {
  /** ỹ_c [N] per class. */
  targets: Float64Array[];
  /** σ̃²_c [N] per class. */
  noise: Float64Array[];
}

/** The transformed regression targets and noise of Milios et al. 2018 (eqs. 9–10). */
export function dirichletTransform(labels: ArrayLike<number>, c: number, alphaEps = 0.01): DirichletTargets {
  if (!(alphaEps > 0)) throw new Error(`dirichletTransform: alphaEps must be > 0, got ${alphaEps}`);
  const n = labels.length;
  const targets: Float64Array[] = [];
  const noise: Float64Array[] = [];
  const s2pos = Math.log(1 / (1 + alphaEps) + 1);
  const s2neg = Math.log(1 / alphaEps + 1);
  const ypos = Math.log(1 + alphaEps) - s2pos / 2;
  const yneg = Math.log(alphaEps) - s2neg / 2;
  for (let k = 0; k < c; k++) {
    const t = new Float64Array(n);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const pos = labels[i] === k;
      t[i] = pos ? ypos : yneg;
      v[i] = pos ? s2pos : s2neg;
    }
    targets.push(t);
    noise.push(v);
  }
  return { targets, noise };
}

export interface DirichletGpOptions {
  /** α_ε (default 0.01, as Milios et al.). */
  alphaEps?: number;
  /** Training points used by the posterior (default 1000; a seeded random subset above). */
  maxPoints?: number;
  /** Points used to fit the hyper-parameters (default 256). */
  hyperPoints?: number;
  /** Random restarts of the hyper-parameter search after the heuristic start (default 2). */
  restarts?: number;
  seed?: number;
  /** Skip the search and use these hyper-parameters. */
  hyper?: RbfParams;
}

/** A fitted multi-class Dirichlet GP head. */
export interface DirichletGp {
  /** Training inputs X [M, D] used by the posterior. */
  x: Float64Array;
  m: number;
  d: number;
  c: number;
  labels: Int32Array;
  hyper: RbfParams;
  alphaEps: number;
  /** Constant prior means m_c [C]. */
  means: Float64Array;
  /** Exact GP per class (Cholesky of K + diag σ̃²_c, α). */
  states: ExactGpState[];
  /** Σ_c log p(ỹ_c | X) on the M points. */
  logMarginalLikelihood: number;
}

function subsetRows(x: ArrayLike<number>, d: number, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) for (let k = 0; k < d; k++) out[r * d + k] = x[rows[r] * d + k];
  return out;
}

/** Median of the pairwise distances (the median heuristic for ℓ), on ≤ 200 points. */
export function medianDistance(x: ArrayLike<number>, n: number, d: number): number {
  const m = Math.min(n, 200);
  const d2 = squaredDistances(subsetRows(x, d, Array.from({ length: m }, (_, i) => i)), m, subsetRows(x, d, Array.from({ length: m }, (_, i) => i)), m, d);
  const vals: number[] = [];
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) vals.push(Math.sqrt(d2[i * m + j]));
  vals.sort((a, b) => a - b);
  const med = vals.length ? vals[Math.floor(vals.length / 2)] : 1;
  return med > 0 ? med : 1;
}

/**
 * Fits the head on features X [N, D] with labels [N] in [0, C).
 */
export function fitDirichletGp(x: ArrayLike<number>, d: number, labels: ArrayLike<number>, c: number, opts: DirichletGpOptions = {}): DirichletGp {
  const n = labels.length;
  if (x.length !== n * d) throw new Error(`fitDirichletGp: X must be [${n}, ${d}]`);
  if (n === 0) throw new Error('fitDirichletGp: no training points');
  const alphaEps = opts.alphaEps ?? 0.01;
  const seed = opts.seed ?? 0;
  const maxPoints = opts.maxPoints ?? 1000;
  const order = permutation(n, seed);
  const rows = n <= maxPoints ? Int32Array.from({ length: n }, (_, i) => i) : order.slice(0, maxPoints).sort();
  const m = rows.length;
  const X = subsetRows(x, d, rows);
  const y = Int32Array.from(rows, (r) => labels[r]);
  const dir = dirichletTransform(y, c, alphaEps);
  const means = Float64Array.from(dir.targets, (t) => t.reduce((s, v) => s + v, 0) / m);
  const centred = dir.targets.map((t, k) => t.map((v) => v - means[k]));
  let hyper = opts.hyper;
  if (!hyper) {
    const hp = Math.min(m, opts.hyperPoints ?? 256);
    const hrows = Int32Array.from(permutation(m, seed + 1).subarray(0, hp)).sort();
    const Xh = subsetRows(X, d, hrows);
    const d2h = squaredDistances(Xh, hp, Xh, hp, d);
    const outputs: GpOutputData[] = centred.map((t, k) => ({ y: Float64Array.from(hrows, (r) => t[r]), noise: Float64Array.from(hrows, (r) => dir.noise[k][r]) }));
    const med = medianDistance(Xh, hp, d);
    let varT = 0;
    for (const t of outputs) for (let i = 0; i < hp; i++) varT += (t.y[i] * t.y[i]) / (hp * c);
    const lower = [Math.log(1e-3), Math.log(med * 1e-2)];
    const upper = [Math.log(1e3), Math.log(med * 1e2)];
    const objective = (t: Float64Array) => {
      try {
        const r = rbfLogMarginalLikelihood(d2h, hp, outputs, { signalVariance: Math.exp(t[0]), lengthscale: Math.exp(t[1]) }, { gradient: true });
        return { value: -r.value, gradient: [-r.gradient[0], -r.gradient[1]] };
      } catch {
        return { value: Infinity, gradient: [0, 0] };
      }
    };
    const rand = mulberry32(seed + 2);
    const starts = [[Math.log(Math.max(varT, 1e-2)), Math.log(med)]];
    for (let r = 0; r < (opts.restarts ?? 2); r++) starts.push([starts[0][0] + (rand() * 2 - 1) * Math.log(10), starts[0][1] + (rand() * 2 - 1) * Math.log(10)]);
    let best: { x: Float64Array; f: number } | null = null;
    for (const s0 of starts) {
      const s = s0.map((v, i) => Math.min(upper[i], Math.max(lower[i], v)));
      if (!Number.isFinite(objective(Float64Array.from(s)).value)) continue;
      const r = minimizeLbfgs(objective, s, { lower, upper, maxIter: 100, gtol: 1e-6 });
      if (!best || r.f < best.f) best = { x: r.x, f: r.f };
    }
    if (!best) throw new Error('fitDirichletGp: the marginal likelihood could not be evaluated');
    hyper = { signalVariance: Math.exp(best.x[0]), lengthscale: Math.exp(best.x[1]) };
  }
  const K = rbfFromSquaredDistances(squaredDistances(X, m, X, m, d), hyper);
  const states = centred.map((t, k) => exactGpFit(K, m, t, dir.noise[k]));
  return {
    x: X,
    m,
    d,
    c,
    labels: y,
    hyper,
    alphaEps,
    means,
    states,
    logMarginalLikelihood: states.reduce((s, st) => s + st.logMarginalLikelihood, 0),
  };
}

/** Rebuilds the per-class GPs from stored inputs, labels and hyper-parameters (deserialisation). */
export function rebuildDirichletGp(x: ArrayLike<number>, d: number, labels: ArrayLike<number>, c: number, hyper: RbfParams, alphaEps: number): DirichletGp {
  return fitDirichletGp(x, d, labels, c, { hyper, alphaEps, maxPoints: Number.MAX_SAFE_INTEGER });
}

/** Latent predictive at X* [M*, D]: means and variances [M*, C] (float64 reference). */
export function dirichletGpPredict(gp: DirichletGp, xs: ArrayLike<number>): { mean: Float64Array; variance: Float64Array } {
  const ms = xs.length / gp.d;
  const kstar = rbfFromSquaredDistances(squaredDistances(xs, ms, gp.x, gp.m, gp.d), gp.hyper);
  const kss = new Float64Array(ms).fill(gp.hyper.signalVariance);
  const mean = new Float64Array(ms * gp.c);
  const variance = new Float64Array(ms * gp.c);
  gp.states.forEach((s, k) => {
    const p = exactGpPredict(s, kstar, ms, kss);
    for (let i = 0; i < ms; i++) {
      mean[i * gp.c + k] = p.mean[i] + gp.means[k];
      variance[i * gp.c + k] = p.variance[i];
    }
  });
  return { mean, variance };
}

/** (K + diag σ̃²_c)⁻¹ [M, M] per class (for the tensor predictive). */
export function dirichletGpInverses(gp: DirichletGp): Float64Array[] {
  return gp.states.map((s) => choleskyInverse(s.L, gp.m));
}
