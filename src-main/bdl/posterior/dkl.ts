/**
 * 'dkl': deep kernel learning for classification — the trained network's 128-d penultimate
 * features φ(x) feed exact GP heads with an RBF kernel, k(x, x') = σ_f² exp(−‖φ(x) − φ(x')‖²/(2ℓ²))
 * (Wilson, Hu, Salakhutdinov & Xing, "Deep Kernel Learning", AISTATS 2016; here the features are
 * learned by the MAP network first and then frozen — the GP is fitted post hoc, as in
 * "DUE"/SNGP-style feature-space GPs, without joint training).
 *
 * Classification is GP label regression with the Dirichlet transform (Milios et al. 2018,
 * gp/dirichlet.ts): one GP per class on transformed one-hot labels with heteroscedastic noise,
 * shared (σ_f², ℓ) maximising the summed log marginal likelihood on ≤ 256 points (subset of
 * data), posterior on ≤ 1000 points (a seeded random subset when N is larger).
 *
 * Predictive at x*: independent latent f_c(x*) ~ N(μ_c, σ²_c) per class (R&W eqs. 2.25–2.26 with
 * the class's noise), then
 *   'mc' (default): S samples p_s = softmax(f_s)  → probs [S, N, C];
 *   'probit': softmax(μ_c/√(1 + πσ²_c/8)), S = 1 (BALD needs 'mc').
 * Samples are drawn independently per image (marginals; fine for per-image acquisition such as
 * BALD, not a joint sample over the pool).
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { dirichletGpInverses, fitDirichletGp, rebuildDirichletGp, type DirichletGp } from '../gp/dirichlet.ts';
import { base64ToF32, f32ToBase64 } from '../laplace/curvature.ts';
import { probitTensor } from '../laplace/tensors.ts';
import { standardNormal } from '../linalg/random.ts';
import { deriveSeed } from '../util/random.ts';
import { Posterior } from './base.ts';
import { featurePredictive, repeatSamples } from './lastLayer.ts';
import type { FitOptions, FitReport, PosteriorOptions, PredictOptions, PredictiveSamples, SerializedPosterior } from './types.ts';

/** Training points used by the GP posterior (subset of data above). */
export const DKL_MAX_POINTS = 1000;
/** Points used to fit the kernel hyper-parameters. */
export const DKL_HYPER_POINTS = 256;

export function validateDklOptions(o: PosteriorOptions): void {
  if (o.predictive !== undefined && o.predictive !== 'mc' && o.predictive !== 'probit') {
    throw new Error(`predictive '${String(o.predictive)}' is not supported for method 'dkl' (supported: mc, probit)`);
  }
}

export interface DklSummary {
  signalVariance: number;
  lengthscale: number;
  alphaEps: number;
  /** Training points in the GP posterior (≤ DKL_MAX_POINTS). */
  points: number;
  examples: number;
  logMarginalLikelihood: number;
  seconds: number;
}

export class DklPosterior extends Posterior<ConvNet> {
  readonly method = 'dkl' as const;
  private gp: DirichletGp | null = null;
  private inverses: Float64Array[] | null = null;
  private examples = 0;
  private headSeconds = 0;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    validateDklOptions(options);
    const st = from?.json.state;
    if (st) this.restoreState(st);
  }

  get summary(): DklSummary | null {
    const g = this.gp;
    if (!g) return null;
    return {
      signalVariance: g.hyper.signalVariance,
      lengthscale: g.hyper.lengthscale,
      alphaEps: g.alphaEps,
      points: g.m,
      examples: this.examples,
      logMarginalLikelihood: g.logMarginalLikelihood,
      seconds: this.headSeconds,
    };
  }

  /** The fitted GP head (float64; for inspection and tests). */
  get head(): DirichletGp | null {
    return this.gp;
  }

  protected defaultSamples(): number {
    return this.options.predictive === 'probit' ? 1 : (this.options.mcSamples ?? 20);
  }

  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const report = await super.fit(x, y, opts);
    const t0 = performance.now();
    const { features, shape } = await this.features(x);
    this.fitHead(features, shape[1], y);
    this.headSeconds = (performance.now() - t0) / 1000;
    return report;
  }

  /** Fits the GP head on given features Φ [N, D] (exposed for tests / refits). */
  fitHead(phi: ArrayLike<number>, d: number, y: Int32Array): void {
    this.assertAlive();
    this.gp = fitDirichletGp(phi, d, y, this.options.numClasses, { maxPoints: DKL_MAX_POINTS, hyperPoints: DKL_HYPER_POINTS, seed: this.seed });
    this.inverses = null;
    this.examples = y.length;
  }

  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    this.assertAlive();
    const gp = this.requireGp();
    const S = opts.samples ?? this.defaultSamples();
    const C = this.options.numClasses;
    const seed = opts.seed ?? this.seed;
    const t = this.tensors(gp);
    try {
      return await featurePredictive(this.net, this.imageShape, C, x, S, opts, (z, start) => this.head_(z, S, deriveSeed(seed, start), t));
    } finally {
      Object.values(t).forEach((v) => (v as tf.Tensor).dispose());
    }
  }

  protected sampleProbs(h: tf.Tensor4D, samples: number, seed: number): tf.Tensor3D {
    const t = this.tensors(this.requireGp());
    try {
      return this.head_(this.net.penultimate(h), samples, seed, t);
    } finally {
      Object.values(t).forEach((v) => (v as tf.Tensor).dispose());
    }
  }

  protected override state(): Record<string, unknown> | undefined {
    const g = this.gp;
    if (!g) return undefined;
    return {
      x: f32ToBase64(g.x),
      m: g.m,
      d: g.d,
      labels: Array.from(g.labels),
      signalVariance: g.hyper.signalVariance,
      lengthscale: g.hyper.lengthscale,
      alphaEps: g.alphaEps,
      examples: this.examples,
      seconds: this.headSeconds,
    };
  }

  // ---------------------------------------------------------------- internals

  /** GP latent mean/variance → [S, B, C] probabilities (inside tidy). */
  private head_(z: tf.Tensor2D, S: number, seed: number, t: ReturnType<DklPosterior['tensors']>): tf.Tensor3D {
    const gp = this.requireGp();
    const C = gp.c;
    const B = z.shape[0];
    // ‖z − x‖² = ‖z‖² + ‖x‖² − 2 z·x
    const d2 = tf.relu(tf.sub(tf.add(tf.sum(tf.square(z), 1, true), t.xsq), tf.mul(2, tf.matMul(z, t.X, false, true))));
    const kstar = tf.mul(gp.hyper.signalVariance, tf.exp(tf.mul(-0.5 / (gp.hyper.lengthscale * gp.hyper.lengthscale), d2))) as tf.Tensor2D; // [B, M]
    const mean = tf.add(tf.matMul(kstar, t.alpha), t.means) as tf.Tensor2D; // [B, C]
    const kr = tf.tile(tf.expandDims(kstar, 0), [C, 1, 1]) as tf.Tensor3D; // [C, B, M]
    const quad = tf.sum(tf.mul(tf.matMul(kr, t.kinv), kr), 2); // [C, B]
    const variance = tf.relu(tf.sub(gp.hyper.signalVariance, tf.transpose(quad))) as tf.Tensor2D;
    if (this.options.predictive === 'probit') return repeatSamples(probitTensor(mean, variance), S);
    const eps = tf.tensor3d(Float32Array.from(standardNormal(S * B * C, seed)), [S, B, C]);
    return tf.softmax(tf.add(mean, tf.mul(tf.sqrt(variance), eps))) as tf.Tensor3D;
  }

  /** Constant tensors of the predictive (created per call, disposed by the caller). */
  private tensors(gp: DirichletGp) {
    this.inverses ??= dirichletGpInverses(gp);
    const { m, d, c } = gp;
    const alpha = new Float32Array(m * c);
    gp.states.forEach((s, k) => s.alpha.forEach((v, i) => (alpha[i * c + k] = v)));
    const kinv = new Float32Array(c * m * m);
    this.inverses.forEach((inv, k) => kinv.set(inv, k * m * m));
    const xsq = new Float32Array(m);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) xsq[i] += gp.x[i * d + j] ** 2;
    return {
      X: tf.tensor2d(Float32Array.from(gp.x), [m, d]),
      xsq: tf.tensor2d(xsq, [1, m]),
      alpha: tf.tensor2d(alpha, [m, c]),
      means: tf.tensor2d(Float32Array.from(gp.means), [1, c]),
      kinv: tf.tensor3d(kinv, [c, m, m]),
    };
  }

  private requireGp(): DirichletGp {
    if (!this.gp) throw new Error('dkl: call fit first (the GP is fitted on the training features)');
    return this.gp;
  }

  private restoreState(st: Record<string, unknown>): void {
    const num = (k: string) => {
      const v = st[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`deserialize: dkl state.${k} is not a number`);
      return v;
    };
    const m = num('m');
    const d = num('d');
    const x = base64ToF32(String(st.x));
    const labels = Array.isArray(st.labels) ? Int32Array.from(st.labels as number[]) : new Int32Array(0);
    if (x.length !== m * d || labels.length !== m) throw new Error('deserialize: dkl state has inconsistent sizes');
    if (d !== this.net.featureDim) throw new Error(`deserialize: dkl features have D = ${d}, the network ${this.net.featureDim}`);
    // float32 features (as computed by the network) → identical kernel matrices up to rounding
    this.gp = rebuildDirichletGp(x, d, labels, this.options.numClasses, { signalVariance: num('signalVariance'), lengthscale: num('lengthscale') }, num('alphaEps'));
    this.examples = num('examples');
    this.headSeconds = typeof st.seconds === 'number' ? st.seconds : 0;
  }
}
