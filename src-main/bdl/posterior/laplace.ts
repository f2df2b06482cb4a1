/**
 * 'laplace': the post hoc Laplace approximation of the MAP network (MacKay 1992; Ritter et al.
 * 2018; Daxberger et al., "Laplace Redux", NeurIPS 2021 — laplace-torch's `Laplace(model,
 * 'classification', subset_of_weights, hessian_structure)` + `optimize_prior_precision`).
 *
 *   fit = MAP training (the base class, dropout as in training) + curvature at θ*:
 *   p(θ | D) ≈ N(θ*, (H + τ I)⁻¹),  H = Σ_n J_nᵀ Λ_n J_n  (GGN of the summed softmax NLL, i.e. N ×
 *   the mean; Λ_n = diag(p_n) − p_n p_nᵀ), τ the prior precision of θ ~ N(0, τ⁻¹ I).
 *
 * Options (defaults as laplace-torch):
 * - subsetOfWeights 'last-layer' (default; θ = the 128·C + C weights of the logits layer, features
 *   of the deterministic network) or 'all' (every weight; dropout off);
 * - hessianStructure 'kron' (default), 'diag', or 'full' (last layer only — refused with 'all': the
 *   Gal CNN has ≈ 5·10⁵ parameters at 28×28). With 'all' + 'kron': dense layers KFAC (dense1's
 *   A factor through its rank-≤N Gram matrix), conv layers diagonal — see laplace/network.ts;
 * - priorPrecision τ: when given it is used as is (and sets the MAP weight decay τ/N); otherwise τ
 *   maximises the Laplace log marginal likelihood (laplace/marglik.ts; exact 1-D search);
 * - predictive 'mc' (default): S weight samples θ_s ~ N(θ*, Σ) through the LINEARISED network
 *   f_lin(x; θ_s) = f(x; θ*) + J(x)(θ_s − θ*), p_s = softmax(f_lin) (laplace-torch
 *   pred_type='glm', link_approx='mc'; Immer, Korzepa & Bauer, AISTATS 2021 — the GLM predictive
 *   of the Laplace posterior); 'probit': the same Gaussian logits f ~ N(f(x; θ*), J Σ Jᵀ) with the
 *   probit approximation softmax(f̄/√(1 + π/8 diag(JΣJᵀ))) (MacKay 1992; laplace-torch
 *   link_approx='probit'), S = 1 — BALD needs 'mc' (with one deterministic sample it is 0);
 *   'nn': S weight samples through the full non-linear network (laplace-torch pred_type='nn';
 *   known to underfit badly with a Laplace posterior over all weights, Immer et al. 2021 —
 *   provided for comparison).
 *
 * For the last layer the network is linear in θ, so 'mc' and 'nn' are the same predictive (weight
 * samples through the linear head). For 'all', 'mc' and 'probit' cost C backward passes per image
 * (one replicated batch) plus the per-class conv Jacobians, 'nn' S forward passes per image. The
 * weight draws are shared across images and batches (joint samples).
 *
 * Costs measured on 2 shared cores (wasm, MNIST, C = 10, N = 200 labels, pool of 1000): last
 * layer kron ≈ 1 s post hoc + 1–2 s predictive; last layer full ≈ 15 s post hoc (eigenvalues of
 * the 1290×1290 GGN) + 6 s; 'all' kron ≈ 50–100 s post hoc and 150–200 s predictive (≈ 0.15 s per
 * pool image). With few labels the single marglik τ over ≈ 5·10⁵ weights is small (the data
 * determine few directions, γ ≪ P), so the 'all' posterior is prior-dominated and underconfident
 * (MNIST, 200 labels: GLM probit accuracy 0.83, NLL 1.47 vs MAP 0.55); 'last-layer' is the default.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import {
  base64ToF64,
  blockEigenvalues,
  deserializeBlock,
  f64ToBase64,
  prepareBlock,
  serializeBlock,
  type CurvatureBlock,
  type CurvatureStructure,
  type PreparedBlock,
  type SerializedBlock,
} from '../laplace/curvature.ts';
import { linearForward, linearGgn, logLikelihood, squaredNorm } from '../laplace/linear.ts';
import { laplaceLogMarginalLikelihood, optimizePriorPrecision, type PriorPrecisionResult } from '../laplace/marglik.ts';
import {
  networkCurvature,
  networkGlm,
  networkGlmSamples,
  networkLayers,
  networkLogits,
  networkWeights,
  readParameters,
  sampleWeights,
  stackWeightPerturbations,
  tensorBlock,
  type TensorBlock,
} from '../laplace/network.ts';
import { glmVarianceOp, probitTensor, sampleLinearWeights, stackedLogits } from '../laplace/tensors.ts';
import { standardNormal } from '../linalg/random.ts';
import { deriveSeed, permutation } from '../util/random.ts';
import { gatherRows } from '../util/rows.ts';
import { countImages, imagesToTensor, yieldToEventLoop } from '../util/tensors.ts';
import { meanProbs } from '../acquisition/base.ts';
import { evaluate } from '../metrics.ts';
import { Posterior } from './base.ts';
import { featurePredictive, repeatSamples } from './lastLayer.ts';
import {
  CancelledError,
  type FitOptions,
  type FitProgress,
  type FitReport,
  type PosteriorOptions,
  type PredictOptions,
  type PredictiveSamples,
  type SerializedPosterior,
  type SubsetOfWeights,
} from './types.ts';

/** Above this many parameters subsetOfWeights 'all' is refused (imageSize 128/224). */
export const LAPLACE_ALL_MAX_PARAMETERS = 4_000_000;

/** τ candidates of the validation searches: 10^-1 … 10^4 in quarter decades. */
export const PRIOR_PRECISION_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => 10 ** (-1 + i / 4));

function argmin(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}

/** Parameters of the Gal CNN for the given input (conv 4×4 → conv 4×4 → pool 2 → 128 → C). */
export function galCnnParameterCount(o: { imageSize: number; channels: number; numClasses: number }): number {
  const hw = Math.floor((o.imageSize - 6) / 2);
  return 16 * o.channels * 32 + 32 + 16 * 32 * 32 + 32 + hw * hw * 32 * 128 + 128 + 129 * o.numClasses;
}

/** Registry hook: refuses invalid option combinations with a clear message. */
export function validateLaplaceOptions(o: PosteriorOptions): void {
  const subset = o.subsetOfWeights ?? 'last-layer';
  const structure = o.hessianStructure ?? 'kron';
  if (o.predictive !== undefined && o.predictive !== 'mc' && o.predictive !== 'probit' && o.predictive !== 'nn') {
    throw new Error(`predictive must be 'mc', 'probit' or 'nn'; got '${String(o.predictive)}'`);
  }
  if (o.priorPrecisionMethod !== undefined && o.priorPrecisionMethod !== 'marglik' && o.priorPrecisionMethod !== 'cross-validation') {
    throw new Error(`priorPrecisionMethod must be 'marglik' or 'cross-validation'; got '${String(o.priorPrecisionMethod)}'`);
  }
  if (o.priorPrecisionMethod === 'cross-validation' && subset === 'all') {
    throw new Error("priorPrecisionMethod 'cross-validation' needs subsetOfWeights 'last-layer' (with 'all' every τ would cost a GLM predictive over half the labels)");
  }
  if (subset === 'all' && (o.architecture ?? 'gal-cnn') !== 'gal-cnn') {
    throw new Error(
      `subsetOfWeights 'all' is implemented for the Gal CNN only (its Jacobians are written out layer by layer); with architecture '${o.architecture}' use subsetOfWeights 'last-layer'`,
    );
  }
  if (subset === 'all') {
    const P = galCnnParameterCount(o);
    if (structure === 'full') {
      const gb = (P * P * 8) / 1e9;
      throw new Error(
        `hessianStructure 'full' with subsetOfWeights 'all' is refused for the Gal CNN: P = ${P} parameters would need a ${P}×${P} ` +
          `matrix (${gb.toFixed(0)} GB) and its Cholesky factor; use 'kron' or 'diag', or subsetOfWeights 'last-layer' ('full' is fine there)`,
      );
    }
    if (P > LAPLACE_ALL_MAX_PARAMETERS) {
      throw new Error(
        `subsetOfWeights 'all' is refused at imageSize ${o.imageSize}: the Gal CNN has P = ${P} parameters (limit ${LAPLACE_ALL_MAX_PARAMETERS}); use subsetOfWeights 'last-layer'`,
      );
    }
  }
}

interface LaplaceFitState {
  subset: SubsetOfWeights;
  structure: CurvatureStructure;
  /** One block (last layer) or four (conv1, conv2, dense1, logits). */
  blocks: CurvatureBlock[];
  /** Per-block structure actually used ('full' | 'diag' | 'kron' | 'kron-lowrank'). */
  structures: string[];
  priorPrecision: number;
  priorPrecisionOptimized: boolean;
  logLikelihood: number;
  thetaSquaredNorm: number;
  examples: number;
  parameters: number;
  seconds: number;
}

/** What `fit` computed after the MAP training (also serialised). */
export interface LaplaceSummary {
  subsetOfWeights: SubsetOfWeights;
  hessianStructure: CurvatureStructure;
  layerStructures: string[];
  parameters: number;
  priorPrecision: number;
  priorPrecisionOptimized: boolean;
  logLikelihood: number;
  logMarginalLikelihood: number;
  examples: number;
  /** Seconds for the curvature and the τ search (after the MAP training). */
  seconds: number;
}

export class LaplacePosterior extends Posterior<ConvNet> {
  readonly method = 'laplace' as const;
  private st: LaplaceFitState | null = null;
  private eigenvalueCache: Float64Array | null = null;
  private preparedCache: PreparedBlock[] | null = null;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    validateLaplaceOptions(options);
    const s = from?.json.state;
    if (s) this.restoreState(s);
  }

  get subsetOfWeights(): SubsetOfWeights {
    return this.options.subsetOfWeights ?? 'last-layer';
  }

  get hessianStructure(): CurvatureStructure {
    return this.options.hessianStructure ?? 'kron';
  }

  /** Current τ (after fit: the given or the marglik-optimal one). */
  get priorPrecision(): number {
    return this.requireFit().priorPrecision;
  }

  get summary(): LaplaceSummary | null {
    const s = this.st;
    if (!s) return null;
    return {
      subsetOfWeights: s.subset,
      hessianStructure: s.structure,
      layerStructures: [...s.structures],
      parameters: s.parameters,
      priorPrecision: s.priorPrecision,
      priorPrecisionOptimized: s.priorPrecisionOptimized,
      logLikelihood: s.logLikelihood,
      logMarginalLikelihood: this.logMarginalLikelihood(),
      examples: s.examples,
      seconds: s.seconds,
    };
  }

  /** The GGN blocks (read-only; for inspection and tests). */
  get curvature(): readonly CurvatureBlock[] {
    return this.requireFit().blocks;
  }

  protected defaultSamples(): number {
    return this.options.predictive === 'probit' ? 1 : (this.options.mcSamples ?? 20);
  }

  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const crossValidate = this.options.priorPrecisionMethod === 'cross-validation' && this.options.priorPrecision === undefined;
    const share = crossValidate ? 0.5 : 1;
    const onProgress = opts.onProgress && ((p: FitProgress) => opts.onProgress!({ ...p, fraction: p.fraction * share }));
    const report = await super.fit(x, y, { ...opts, onProgress });
    await this.fitCurvature(x, y, { shouldStop: opts.shouldStop });
    if (crossValidate) {
      const t0 = performance.now();
      await this.crossValidatePriorPrecision(x, y, { ...opts, onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, fraction: 0.5 + p.fraction / 2 })) });
      this.requireFit().seconds += (performance.now() - t0) / 1000;
    }
    return report;
  }

  /**
   * The post hoc part of `fit`: GGN at the current weights θ* over (x, y), log-likelihood, and τ
   * (given, or by marglik; `fit` then cross-validates it when asked). Can be called on a network
   * trained elsewhere.
   * @param x uint8 images [N, H, W, C]; y int32 labels [N]
   */
  async fitCurvature(
    x: Uint8Array,
    y: Int32Array,
    opts: { shouldStop?: () => boolean; batchSize?: number } = {},
  ): Promise<void> {
    this.assertAlive();
    const t0 = performance.now();
    const n = countImages(x, this.imageShape);
    if (y.length !== n) throw new Error(`fitCurvature: ${n} images but ${y.length} labels`);
    const C = this.options.numClasses;
    const subset = this.subsetOfWeights;
    const structure = this.hessianStructure;
    let blocks: CurvatureBlock[];
    let structures: string[];
    let ll: number;
    let thetaSq: number;
    if (subset === 'last-layer') {
      const { features, shape } = await this.features(x);
      const f = { phi: features, n, d: shape[1] };
      const [w] = await readParameters(this.net, ['logits']);
      const targets = { likelihood: 'categorical' as const, labels: y };
      const F = linearForward(f, w, C);
      ll = logLikelihood(F, n, C, targets).value;
      blocks = [linearGgn(f, F, C, targets, structure)];
      structures = [structure];
      thetaSq = squaredNorm(w);
    } else {
      const [H, W] = this.imageShape;
      const batchSize = opts.batchSize ?? Math.max(1, Math.floor((8 * 28 * 28) / (H * W)));
      const r = await networkCurvature(this.net, n, (start, count) => imagesToTensor(x, this.imageShape, { start, count }), y, structure as 'diag' | 'kron', {
        batchSize,
        shouldStop: opts.shouldStop,
      });
      blocks = r.blocks;
      structures = r.structures;
      ll = r.logLikelihood;
      thetaSq = (await readParameters(this.net)).reduce((s, t) => s + squaredNorm(t), 0);
    }
    this.eigenvalueCache = null;
    this.preparedCache = null;
    this.st = {
      subset,
      structure,
      blocks,
      structures,
      priorPrecision: this.options.priorPrecision ?? 1,
      priorPrecisionOptimized: false,
      logLikelihood: ll,
      thetaSquaredNorm: thetaSq,
      examples: n,
      parameters: blocks.reduce((s, b) => s + b.P, 0),
      seconds: 0,
    };
    if (this.options.priorPrecision === undefined) this.optimizePriorPrecision();
    this.st.seconds = (performance.now() - t0) / 1000;
  }

  /**
   * log p(D | τ) ≈ log p(D|θ*) + log p(θ*|τ) + P/2 log 2π − ½ log det(H + τI)
   * (laplace/marglik.ts), at τ = `priorPrecision` (default: the current τ).
   */
  logMarginalLikelihood(priorPrecision?: number): number {
    const s = this.requireFit();
    return laplaceLogMarginalLikelihood(this.marglikTerms(), priorPrecision ?? s.priorPrecision);
  }

  /** τ ← argmax log p(D | τ) (laplace-torch `optimize_prior_precision(method='marglik')`). */
  optimizePriorPrecision(opts: { lower?: number; upper?: number } = {}): PriorPrecisionResult {
    const s = this.requireFit();
    const r = optimizePriorPrecision(this.marglikTerms(), opts);
    s.priorPrecision = r.priorPrecision;
    s.priorPrecisionOptimized = true;
    this.preparedCache = null;
    return r;
  }

  /**
   * τ by 2-fold cross-validation: a Laplace posterior is fitted on each half (MAP training +
   * curvature, same fit options) and scored on the other half for every τ of the grid (laplace-torch
   * `optimize_prior_precision(method='gridsearch')` with the folds as validation sets); the τ with
   * the lowest summed NLL is set here. Costs about one more MAP training. Why: with few labels the
   * marglik τ is far too small — confidently fitted training images add almost no curvature, so
   * most directions keep the prior's variance (MNIST, 1,000 labels, last layer, kron: marglik τ ≈ 5.6
   * gives NLL 0.33 against the MAP's 0.165; cross-validation picks τ ≈ 56 and gives 0.14).
   * Only for subsetOfWeights 'last-layer' (the 'all' predictive costs ≈ 0.15 s per image and τ).
   * @param x uint8 images [N, H, W, C], y int32 labels [N]: this posterior's training data
   */
  async crossValidatePriorPrecision(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<{ priorPrecision: number; nll: number }> {
    const s = this.requireFit();
    if (s.subset !== 'last-layer') throw new Error("crossValidatePriorPrecision: only for subsetOfWeights 'last-layer'");
    const n = y.length;
    if (n < 4) throw new Error(`crossValidatePriorPrecision: needs at least 4 labelled images, got ${n}`);
    const order = permutation(n, deriveSeed(this.seed, 0xcf));
    const halves = [order.subarray(0, n >> 1), order.subarray(n >> 1)];
    const total = new Float64Array(PRIOR_PRECISION_GRID.length);
    for (let k = 0; k < 2; k++) {
      const [train, held] = [halves[k], halves[1 - k]];
      const fold = new LaplacePosterior({ ...this.options, priorPrecision: undefined, priorPrecisionMethod: 'marglik', seed: deriveSeed(this.seed, 0xcf + k + 1) });
      try {
        const onProgress = opts.onProgress && ((p: FitProgress) => opts.onProgress!({ ...p, fraction: (k + p.fraction) / 2 }));
        const per = this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
        await fold.fit(gatherRows(x, per, train), gatherRows(y, 1, train), { ...opts, onProgress });
        const nll = await fold.validationNll(gatherRows(x, per, held), gatherRows(y, 1, held));
        nll.forEach((v, i) => (total[i] += v * held.length));
      } finally {
        fold.dispose();
      }
    }
    const best = argmin(total);
    this.setPriorPrecision(PRIOR_PRECISION_GRID[best]);
    s.priorPrecisionOptimized = true;
    return { priorPrecision: PRIOR_PRECISION_GRID[best], nll: total[best] / n };
  }

  /** Mean NLL of the predictive on (x, y) at every τ of PRIOR_PRECISION_GRID; leaves τ changed. */
  private async validationNll(x: Uint8Array, y: Int32Array): Promise<number[]> {
    this.requireFit();
    if (y.length !== countImages(x, this.imageShape)) throw new Error(`validation: ${countImages(x, this.imageShape)} images but ${y.length} labels`);
    if (y.length === 0) throw new Error('validation: no images');
    const out: number[] = [];
    for (const tau of PRIOR_PRECISION_GRID) {
      this.setPriorPrecision(tau);
      out.push(evaluate(meanProbs(await this.predictiveSamples(x)), y, this.options.numClasses).nll);
    }
    return out;
  }

  /** Sets τ by hand (the posterior covariance changes; θ* does not). */
  setPriorPrecision(tau: number): void {
    if (!(tau > 0 && Number.isFinite(tau))) throw new Error(`priorPrecision must be > 0, got ${tau}`);
    const s = this.requireFit();
    s.priorPrecision = tau;
    s.priorPrecisionOptimized = false;
    this.preparedCache = null;
  }

  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    this.assertAlive();
    const s = this.requireFit();
    const S = opts.samples ?? this.defaultSamples();
    if (!(Number.isInteger(S) && S >= 1)) throw new Error(`predictiveSamples: samples must be a positive integer, got ${S}`);
    const C = this.options.numClasses;
    const seed = opts.seed ?? this.seed;
    const prepared = this.prepared();
    if (s.subset === 'last-layer') {
      const dA = this.net.featureDim + 1;
      const [theta] = await readParameters(this.net, ['logits']);
      if (this.options.predictive === 'probit') {
        const op = glmVarianceOp(prepared[0], dA, C);
        const W = tf.tensor2d(Float32Array.from(theta), [dA, C]);
        try {
          return await featurePredictive(this.net, this.imageShape, C, x, S, opts, (z) => {
            const mean = tf.matMul(tf.concat([z, tf.ones([z.shape[0], 1])], 1), W) as tf.Tensor2D;
            return repeatSamples(probitTensor(mean, op.variance(z)), S);
          });
        } finally {
          op.dispose();
          W.dispose();
        }
      }
      const W = tf.tensor2d(sampleLinearWeights(prepared[0], theta, dA, C, S, seed), [dA, S * C]);
      try {
        return await featurePredictive(this.net, this.imageShape, C, x, S, opts, (z) => tf.softmax(stackedLogits(z, W, S, C)) as tf.Tensor3D);
      } finally {
        W.dispose();
      }
    }
    if (this.options.predictive === 'nn') return this.allNnPredictive(x, S, seed, opts, prepared);
    return this.allGlmPredictive(x, S, seed, opts, prepared, this.options.predictive === 'probit');
  }

  /** Only reached through the base hooks for the last layer; 'all' overrides predictiveSamples. */
  protected sampleProbs(h: tf.Tensor4D, samples: number, seed: number): tf.Tensor3D {
    const s = this.requireFit();
    if (s.subset !== 'last-layer') throw new Error("laplace: sampleProbs is not used with subsetOfWeights 'all'");
    const dA = this.net.featureDim + 1;
    const C = this.options.numClasses;
    const [kernel, bias] = this.net.model.getLayer('logits').getWeights();
    const theta = new Float64Array(dA * C);
    theta.set(kernel.dataSync(), 0);
    theta.set(bias.dataSync(), (dA - 1) * C);
    const W = tf.tensor2d(sampleLinearWeights(this.prepared()[0], theta, dA, C, samples, seed), [dA, samples * C]);
    return tf.softmax(stackedLogits(this.net.penultimate(h), W, samples, C)) as tf.Tensor3D;
  }

  protected override state(): Record<string, unknown> | undefined {
    const s = this.st;
    if (!s) return undefined;
    return {
      subset: s.subset,
      structure: s.structure,
      blocks: s.blocks.map(serializeBlock),
      structures: s.structures,
      priorPrecision: s.priorPrecision,
      priorPrecisionOptimized: s.priorPrecisionOptimized,
      logLikelihood: s.logLikelihood,
      thetaSquaredNorm: s.thetaSquaredNorm,
      examples: s.examples,
      parameters: s.parameters,
      seconds: s.seconds,
      ...(this.eigenvalueCache && this.eigenvalueCache.length <= 65536 ? { eigenvalues: f64ToBase64(this.eigenvalueCache) } : {}),
    };
  }

  // ---------------------------------------------------------------- internals

  private restoreState(st: Record<string, unknown>): void {
    const num = (k: string) => {
      const v = st[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`deserialize: laplace state.${k} is not a number`);
      return v;
    };
    if (!Array.isArray(st.blocks)) throw new Error('deserialize: laplace state has no curvature blocks');
    const blocks = (st.blocks as SerializedBlock[]).map(deserializeBlock);
    const expected = (st.subset === 'all' ? networkLayers(this.net) : networkLayers(this.net, ['logits'])).map((l) => l.P);
    if (blocks.length !== expected.length || blocks.some((b, i) => b.P !== expected[i])) {
      throw new Error('deserialize: laplace curvature does not match the network');
    }
    this.st = {
      subset: st.subset === 'all' ? 'all' : 'last-layer',
      structure: (st.structure as CurvatureStructure) ?? 'kron',
      blocks,
      structures: Array.isArray(st.structures) ? (st.structures as string[]) : blocks.map((b) => b.structure),
      priorPrecision: num('priorPrecision'),
      priorPrecisionOptimized: Boolean(st.priorPrecisionOptimized),
      logLikelihood: num('logLikelihood'),
      thetaSquaredNorm: num('thetaSquaredNorm'),
      examples: num('examples'),
      parameters: num('parameters'),
      seconds: typeof st.seconds === 'number' ? st.seconds : 0,
    };
    if (typeof st.eigenvalues === 'string') this.eigenvalueCache = base64ToF64(st.eigenvalues);
  }

  private requireFit(): LaplaceFitState {
    if (!this.st) throw new Error('laplace: call fit first (the curvature is computed at the MAP weights)');
    return this.st;
  }

  private marglikTerms() {
    const s = this.requireFit();
    if (!this.eigenvalueCache) {
      const parts = s.blocks.map(blockEigenvalues);
      const all = new Float64Array(parts.reduce((k, p) => k + p.length, 0));
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      this.eigenvalueCache = all;
    }
    return { logLikelihood: s.logLikelihood, thetaSquaredNorm: s.thetaSquaredNorm, eigenvalues: this.eigenvalueCache };
  }

  private prepared(): PreparedBlock[] {
    const s = this.requireFit();
    return (this.preparedCache ??= s.blocks.map((b) => prepareBlock(b, s.priorPrecision)));
  }

  private predictBatchSize(opts: PredictOptions, perImage: number): number {
    const [H, W] = this.imageShape;
    const b = opts.batchSize ?? Math.max(1, Math.floor((perImage * 28 * 28) / (H * W)));
    if (!(Number.isInteger(b) && b >= 1)) throw new Error('predictiveSamples: batchSize must be a positive integer');
    return b;
  }

  /** Seeded N(0, I) draws for sample s of layer i (shared by 'mc' and 'nn'). */
  private static noise(seed: number, s: number, i: number, P: number): Float32Array {
    return Float32Array.from(standardNormal(P, deriveSeed(deriveSeed(seed, 0x1a9 + s), i)));
  }

  /** 'all' + 'nn': for each of S weight draws, the whole (non-linear) network over the pool. */
  private async allNnPredictive(x: Uint8Array, S: number, seed: number, opts: PredictOptions, prepared: PreparedBlock[]): Promise<PredictiveSamples> {
    const n = countImages(x, this.imageShape);
    const C = this.options.numClasses;
    const layers = networkLayers(this.net);
    const batchSize = this.predictBatchSize(opts, 64);
    const probs = new Float32Array(S * n * C);
    const blocks: TensorBlock[] = layers.map((l, i) => tensorBlock(l, prepared[i]));
    const batches = Math.ceil(n / batchSize);
    try {
      for (let s = 0; s < S; s++) {
        const z = layers.map((l, i) => LaplacePosterior.noise(seed, s, i, l.P));
        const w = sampleWeights(blocks, networkWeights(this.net), z);
        try {
          for (let start = 0, b = 0; start < n; start += batchSize, b++) {
            if (opts.shouldStop?.()) throw new CancelledError('prediction cancelled');
            const count = Math.min(batchSize, n - start);
            const p = tf.tidy(() => tf.softmax(networkLogits(this.net, imagesToTensor(x, this.imageShape, { start, count }), w)));
            try {
              probs.set((await p.data()) as Float32Array, (s * n + start) * C);
            } finally {
              p.dispose();
            }
            const done = (s * batches + b + 1) / (S * batches);
            opts.onProgress?.({ done: Math.round(done * n), total: n, fraction: done });
            await yieldToEventLoop();
          }
        } finally {
          for (const t of w) {
            t.kernel.dispose();
            t.bias.dispose();
          }
        }
      }
    } finally {
      blocks.forEach((b) => b.dispose());
    }
    if (n === 0) opts.onProgress?.({ done: 0, total: 0, fraction: 1 });
    return { probs, shape: [S, n, C] };
  }

  /**
   * 'all' + 'mc' / 'probit': the linearised network. One replicated backward pass per batch gives
   * the Jacobian rows; 'probit' uses diag(JΣJᵀ), 'mc' the S joint draws J δθ_s.
   */
  private async allGlmPredictive(x: Uint8Array, S: number, seed: number, opts: PredictOptions, prepared: PreparedBlock[], probit: boolean): Promise<PredictiveSamples> {
    const n = countImages(x, this.imageShape);
    const C = this.options.numClasses;
    const layers = networkLayers(this.net);
    const batchSize = this.predictBatchSize(opts, Math.max(1, Math.floor(64 / C)));
    const probs = new Float32Array(S * n * C);
    const blocks: TensorBlock[] = layers.map((l, i) => tensorBlock(l, prepared[i]));
    let stacks: tf.Tensor2D[] = [];
    try {
      if (!probit) stacks = stackWeightPerturbations(blocks, (s, i) => LaplacePosterior.noise(seed, s, i, layers[i].P), S);
      for (let start = 0; start < n; start += batchSize) {
        if (opts.shouldStop?.()) throw new CancelledError('prediction cancelled');
        const count = Math.min(batchSize, n - start);
        const p = tf.tidy(() => {
          const xb = imagesToTensor(x, this.imageShape, { start, count });
          if (!probit) return tf.softmax(networkGlmSamples(this.net, xb, blocks, stacks, S));
          const g = networkGlm(this.net, xb, blocks);
          return tf.expandDims(probitTensor(g.mean, g.variance), 0);
        });
        try {
          const v = (await p.data()) as Float32Array;
          for (let s = 0; s < S; s++) probs.set(probit ? v : v.subarray(s * count * C, (s + 1) * count * C), (s * n + start) * C);
        } finally {
          p.dispose();
        }
        const done = start + count;
        opts.onProgress?.({ done, total: n, fraction: done / n });
        await yieldToEventLoop();
      }
    } finally {
      blocks.forEach((b) => b.dispose());
      stacks.forEach((t) => t.dispose());
    }
    if (n === 0) opts.onProgress?.({ done: 0, total: 0, fraction: 1 });
    return { probs, shape: [S, n, C] };
  }
}
