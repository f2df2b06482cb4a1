/**
 * Prior predictive check: functions drawn from the prior of a small fully-connected network on a
 * 1-D input, f(x) = W_L φ(… φ(W_1 x + b_1) …) + b_L, to see what a weight prior says about functions
 * before any data (the lecture's "priors over functions"; Neal 1996, "Bayesian Learning for Neural
 * Networks", ch. 2; Wilson & Izmailov 2020, §5).
 *
 * Prior, per layer l with fan-in n_l: weights of variance σ_w² / n_l, biases of variance σ_b²
 * (Neal's scaling: the output variance stays O(1) as the width grows), either Gaussian or Laplace
 * with the SAME variance (Laplace scale b = σ / √2). Weights are drawn in JavaScript from seeded
 * streams (identical on every backend); the S networks are evaluated together on tfjs with batched
 * matrix products.
 *
 * Two properties the tests check: for a ReLU network with one hidden layer,
 * Var f(x) = σ_b² + σ_w² (σ_w² x² + σ_b²) / 2 exactly (E relu(z)² = E z² / 2 for any symmetric z,
 * so it holds for the Laplace prior too); ReLU functions are piecewise linear with at most one kink
 * per first-layer unit (depth 1), while tanh functions are smooth and bounded by Σ|W_L| + |b_L|.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussianSource } from './optim/sgld.ts';
import { DEFAULT_SEED, deriveSeed, mulberry32 } from './util/random.ts';
import { PRIOR_CHECK_LIMITS } from './priorCheckLimits.ts';

export type FunctionPrior = 'gaussian' | 'laplace';
export type Activation = 'tanh' | 'relu';

export interface PriorNetworkOptions {
  /** Default 'gaussian'. */
  prior?: FunctionPrior;
  /** S, networks drawn (default 10). */
  samples?: number;
  /** Hidden units per layer (default 50). */
  width?: number;
  /** Hidden layers (default 2: 1 → 50 → 50 → 1). */
  depth?: number;
  /** σ_w: weights have standard deviation σ_w / √fan_in (default 1). */
  sigmaW?: number;
  /** σ_b: biases have standard deviation σ_b (default 1). */
  sigmaB?: number;
  seed?: number;
}

/** One layer of all S networks: W [S, n_in, n_out] and b [S, n_out], row-major. */
export interface PriorLayer {
  nIn: number;
  nOut: number;
  w: Float32Array;
  b: Float32Array;
}

export interface PriorNetworks {
  samples: number;
  /** Layers 1 … depth + 1 (the last maps to the scalar output). */
  layers: PriorLayer[];
}

function resolve(o: PriorNetworkOptions) {
  const r = {
    prior: o.prior ?? 'gaussian',
    samples: o.samples ?? 10,
    width: o.width ?? 50,
    depth: o.depth ?? 2,
    sigmaW: o.sigmaW ?? 1,
    sigmaB: o.sigmaB ?? 1,
    seed: o.seed ?? DEFAULT_SEED,
  };
  const L = PRIOR_CHECK_LIMITS;
  if (r.prior !== 'gaussian' && r.prior !== 'laplace') throw new Error(`prior must be gaussian or laplace, got ${String(r.prior)}`);
  const int = (name: string, v: number, max: number) => {
    if (!(Number.isInteger(v) && v >= 1 && v <= max)) throw new Error(`${name} must be a whole number from 1 to ${max}, got ${v}`);
  };
  int('samples', r.samples, L.samples);
  int('width', r.width, L.width);
  int('depth', r.depth, L.depth);
  if (!(Number.isFinite(r.sigmaW) && r.sigmaW > 0 && r.sigmaW <= L.sigma)) throw new Error(`sigmaW must be in (0, ${L.sigma}], got ${r.sigmaW}`);
  if (!(Number.isFinite(r.sigmaB) && r.sigmaB >= 0 && r.sigmaB <= L.sigma)) throw new Error(`sigmaB must be in [0, ${L.sigma}], got ${r.sigmaB}`);
  if (!Number.isInteger(r.seed)) throw new Error(`seed must be an integer, got ${r.seed}`);
  return r;
}

/** A zero-mean draw of standard deviation `sd` from the prior's family. */
function drawer(prior: FunctionPrior, seed: number): (sd: number) => number {
  if (prior === 'gaussian') {
    const g = gaussianSource(mulberry32(seed));
    return (sd) => sd * g();
  }
  const u = mulberry32(seed);
  // Inverse CDF of the Laplace distribution with scale b = sd / √2 (variance 2b² = sd²).
  return (sd) => {
    const v = u() - 0.5;
    return (-sd / Math.SQRT2) * Math.sign(v) * Math.log(Math.max(Number.MIN_VALUE, 1 - 2 * Math.abs(v)));
  };
}

/** Draws S networks 1 → width^depth → 1 from the prior (see the file comment). */
export function samplePriorNetworks(options: PriorNetworkOptions = {}): PriorNetworks {
  const o = resolve(options);
  const sizes = [1, ...Array.from({ length: o.depth }, () => o.width), 1];
  const layers: PriorLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [nIn, nOut] = [sizes[l], sizes[l + 1]];
    const draw = drawer(o.prior, deriveSeed(o.seed, l));
    const w = new Float32Array(o.samples * nIn * nOut);
    const b = new Float32Array(o.samples * nOut);
    const sdW = o.sigmaW / Math.sqrt(nIn);
    for (let i = 0; i < w.length; i++) w[i] = draw(sdW);
    for (let i = 0; i < b.length; i++) b[i] = draw(o.sigmaB);
    layers.push({ nIn, nOut, w, b });
  }
  return { samples: o.samples, layers };
}

/** G evenly spaced points from `lo` to `hi` inclusive. */
export function grid(lo: number, hi: number, points: number): Float32Array {
  if (!(Number.isInteger(points) && points >= 2 && points <= PRIOR_CHECK_LIMITS.grid)) throw new Error(`grid points must be a whole number from 2 to ${PRIOR_CHECK_LIMITS.grid}, got ${points}`);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new Error(`grid: need finite lo < hi, got [${lo}, ${hi}]`);
  return Float32Array.from({ length: points }, (_, i) => lo + ((hi - lo) * i) / (points - 1));
}

/**
 * The S networks with activation φ evaluated at x [G].
 * @returns f [S, G] row-major: f[s·G + g] = f_s(x_g)
 */
export async function evaluatePriorNetworks(nets: PriorNetworks, activation: Activation, x: Float32Array): Promise<Float32Array> {
  if (activation !== 'tanh' && activation !== 'relu') throw new Error(`activation must be tanh or relu, got ${String(activation)}`);
  const S = nets.samples;
  const G = x.length;
  const out = tf.tidy(() => {
    // h [S, G, n]: the same inputs for every network.
    let h: tf.Tensor3D = tf.tile(tf.tensor3d(x, [1, G, 1]), [S, 1, 1]);
    nets.layers.forEach((layer, l) => {
      const z = tf.add(tf.matMul(h, tf.tensor3d(layer.w, [S, layer.nIn, layer.nOut])), tf.tensor3d(layer.b, [S, 1, layer.nOut])) as tf.Tensor3D;
      const last = l === nets.layers.length - 1;
      h = last ? z : activation === 'tanh' ? tf.tanh(z) : tf.relu(z);
    });
    return tf.reshape(h, [S, G]);
  });
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

export interface PriorCheck {
  options: Required<PriorNetworkOptions>;
  /** x [G] on [−3, 3]. */
  x: Float32Array;
  /** f [S, G] for the tanh and the ReLU network — the SAME weight draws under both activations. */
  tanh: Float32Array;
  relu: Float32Array;
}

/** The prior predictive check: S functions of a tanh and of a ReLU network on x ∈ [lo, hi] (default [−3, 3], G = 201). */
export async function priorPredictiveCheck(options: PriorNetworkOptions = {}, range: { lo?: number; hi?: number; points?: number } = {}): Promise<PriorCheck> {
  const o = resolve(options);
  const nets = samplePriorNetworks(o);
  const x = grid(range.lo ?? -3, range.hi ?? 3, range.points ?? 201);
  return { options: o, x, tanh: await evaluatePriorNetworks(nets, 'tanh', x), relu: await evaluatePriorNetworks(nets, 'relu', x) };
}
