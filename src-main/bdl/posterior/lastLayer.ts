/**
 * 'last-layer': Bayesian last layer on the trained network's penultimate features
 * (Snoek et al. 2015 "Scalable Bayesian optimization using deep neural networks"; Riquelme,
 * Tucker & Snoek 2018 "Deep Bayesian bandits showdown"; Kristiadi, Hein & Hennig 2020 "Being
 * Bayesian, even just a bit, fixes overconfidence in ReLU networks").
 *
 * `fit` trains the network by MAP (the base class), computes the 128-d features φ(x) of the
 * training images ONCE (dropout off), and replaces the last layer by a Bayesian model on them:
 *
 * - lastLayerModel 'logistic' (default): Bayesian multinomial logistic (softmax) regression,
 *   p(y | φ, W̃) = softmax(W̃ᵀφ̃), prior W̃ ~ N(0, τ⁻¹I), posterior by the Laplace approximation
 *   (MacKay 1992): W̃* = MAP by L-BFGS (warm-started at the network's last layer), covariance
 *   (H + τI)⁻¹ with H the GGN = exact Hessian of the softmax NLL (hessianStructure 'kron' by
 *   default as laplace-torch — 'full' is exact but costs a (129·C)² eigendecomposition per
 *   evidence iteration, ≈ 25 s per fit at C = 10 on 2 cores — or 'diag'); τ by maximising the Laplace evidence (MacKay's evidence
 *   framework: the self-consistent τ = argmax LML(τ | W̃*(τ)), found by secant-accelerated
 *   iteration of MAP refit + exact 1-D τ update, |Δ log τ| < 1e-3) unless priorPrecision is given.
 *   predictive 'mc': S weight draws, p_s = softmax(W̃_sᵀφ̃); 'probit': softmax(μ/√(1+πσ²/8)), S = 1.
 * - lastLayerModel 'linear': Bayesian linear regression of the one-hot labels in closed form
 *   (Bishop PRML §3.3: S_N⁻¹ = αI + βΦ̃ᵀΦ̃, M = βS_NΦ̃ᵀT), α, β by evidence maximisation (§3.5.2;
 *   α fixed to priorPrecision when given). The regression of a one-hot target estimates
 *   p(y = c | x), so each weight draw W̃_s gives g_s = W̃_sᵀφ̃ mapped to the simplex by least-squares
 *   probabilistic classification (Sugiyama 2010): p_s,c ∝ max(g_s,c, 0) + 1e-4. 'mc' only.
 *
 * Features are computed once per image; only the head is sampled.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { type CurvatureBlock, type CurvatureStructure, type PreparedBlock } from '../laplace/curvature.ts';
import type { BlrPosterior } from '../laplace/blr.ts';
import { glmVarianceOp, probitTensor, stackedLogits } from '../laplace/tensors.ts';
import { fitLastLayerHead, headFromState, headState, headWeightSamples, prepareLogisticHead, type LinearHead, type LogisticHead } from './lastLayerHead.ts';
import { countImages, imagesToTensor, yieldToEventLoop } from '../util/tensors.ts';
import { Posterior } from './base.ts';
import { CancelledError, type FitOptions, type FitReport, type PosteriorOptions, type PredictOptions, type PredictiveSamples, type SerializedPosterior } from './types.ts';

// ---------------------------------------------------------------- shared feature loop

const TRUNK_ELEMENTS_BUDGET = 64 * 1024 * 1024;

/**
 * Predictive samples from penultimate features: runs trunk + penultimate (dropout off) on image
 * batches and `head(z)` (z [B, D] → probabilities [S, B, C], called inside tf.tidy) on each.
 * Shared by 'last-layer', 'laplace' (last layer) and 'dkl'.
 */
export async function featurePredictive(
  net: ConvNet,
  imageShape: [number, number, number],
  numClasses: number,
  x: Uint8Array,
  samples: number,
  opts: PredictOptions,
  head: (z: tf.Tensor2D, start: number) => tf.Tensor3D,
): Promise<PredictiveSamples> {
  const n = countImages(x, imageShape);
  const S = samples;
  if (!(Number.isInteger(S) && S >= 1)) throw new Error(`predictiveSamples: samples must be a positive integer, got ${S}`);
  const [H, W] = imageShape;
  const batchSize = opts.batchSize ?? Math.max(1, Math.min(64, Math.floor(TRUNK_ELEMENTS_BUDGET / (H * W * 32))));
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error('predictiveSamples: batchSize must be a positive integer');
  const C = numClasses;
  const probs = new Float32Array(S * n * C);
  const features = opts.withFeatures ? new Float32Array(n * net.featureDim) : undefined;
  for (let start = 0; start < n; start += batchSize) {
    if (opts.shouldStop?.()) throw new CancelledError('prediction cancelled');
    const count = Math.min(batchSize, n - start);
    const z = tf.tidy(() => net.penultimate(net.trunk(imagesToTensor(x, imageShape, { start, count }))));
    let p: tf.Tensor3D | null = null;
    try {
      p = tf.tidy(() => head(z, start));
      if (p.shape[0] !== S || p.shape[1] !== count || p.shape[2] !== C) throw new Error(`head returned [${p.shape.join(', ')}], expected [${S}, ${count}, ${C}]`);
      const values = (await p.data()) as Float32Array;
      for (let s = 0; s < S; s++) probs.set(values.subarray(s * count * C, (s + 1) * count * C), (s * n + start) * C);
      if (features) features.set((await z.data()) as Float32Array, start * net.featureDim);
    } finally {
      z.dispose();
      p?.dispose();
    }
    const done = start + count;
    opts.onProgress?.({ done, total: n, fraction: done / n });
    await yieldToEventLoop();
  }
  if (n === 0) opts.onProgress?.({ done: 0, total: 0, fraction: 1 });
  return features ? { probs, shape: [S, n, C], features } : { probs, shape: [S, n, C] };
}

/** [S, B, C] from [B, C] probabilities repeated S times (deterministic predictives). */
export function repeatSamples(p: tf.Tensor2D, samples: number): tf.Tensor3D {
  const p3 = tf.expandDims(p, 0) as tf.Tensor3D;
  return samples === 1 ? p3 : (tf.tile(p3, [samples, 1, 1]) as tf.Tensor3D);
}

/** Validates the method-specific options of 'last-layer' (registry hook). */
export function validateLastLayerOptions(o: PosteriorOptions): void {
  const model = o.lastLayerModel ?? 'logistic';
  if (model !== 'linear' && model !== 'logistic') throw new Error(`lastLayerModel must be 'linear' or 'logistic'; got '${String(o.lastLayerModel)}'`);
  if (o.predictive !== undefined && o.predictive !== 'mc' && o.predictive !== 'probit') {
    throw new Error(`predictive '${String(o.predictive)}' is not supported for method 'last-layer' (supported: mc, probit)`);
  }
  if (model === 'linear') {
    if (o.hessianStructure !== undefined) {
      throw new Error("hessianStructure is not applicable to method 'last-layer' with lastLayerModel 'linear' (the Bayesian linear regression posterior is exact, no Hessian approximation); remove it");
    }
    if (o.predictive === 'probit') {
      throw new Error("predictive 'probit' is not applicable to lastLayerModel 'linear' (its outputs are regressions of one-hot labels, not logits); use 'mc'");
    }
  }
  if (o.prior !== undefined && o.prior !== 'gaussian') throw new Error(`prior '${o.prior}' is not supported for method 'last-layer' (Gaussian prior only)`);
}

// ---------------------------------------------------------------- the posterior

/** Summary of the Bayesian head after `fit` (also in the serialised state). */
export interface LastLayerSummary {
  model: 'linear' | 'logistic';
  /** τ (logistic) or α (linear). */
  priorPrecision: number;
  /** β (linear only). */
  noisePrecision?: number;
  /** log p(D) of the head: Laplace evidence (logistic) or exact (linear, eq. 3.86). */
  logMarginalLikelihood: number;
  hessianStructure?: CurvatureStructure;
  examples: number;
  /** Seconds spent on features + the Bayesian head (after the MAP training). */
  seconds: number;
}

export class LastLayerPosterior extends Posterior<ConvNet> {
  readonly method = 'last-layer' as const;
  private head: LogisticHead | LinearHead | null = null;
  private prepared: PreparedBlock | null = null;
  private headSeconds = 0;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    validateLastLayerOptions(options);
    const st = from?.json.state;
    if (st) this.restoreState(st);
  }

  get model(): 'linear' | 'logistic' {
    return this.options.lastLayerModel ?? 'logistic';
  }

  get hessianStructure(): CurvatureStructure {
    return this.options.hessianStructure ?? 'kron';
  }

  get summary(): LastLayerSummary | null {
    const h = this.head;
    if (!h) return null;
    if (h.kind === 'linear') {
      return { model: 'linear', priorPrecision: h.blr.alpha, noisePrecision: h.blr.beta, logMarginalLikelihood: h.blr.logEvidence, examples: h.examples, seconds: this.headSeconds };
    }
    return {
      model: 'logistic',
      priorPrecision: h.priorPrecision,
      logMarginalLikelihood: h.logMarginalLikelihood,
      hessianStructure: h.block.structure,
      examples: h.examples,
      seconds: this.headSeconds,
    };
  }

  /** The closed-form BLR posterior (lastLayerModel 'linear'), for inspection and tests. */
  get linearPosterior(): BlrPosterior | null {
    return this.head?.kind === 'linear' ? this.head.blr : null;
  }

  /** W̃* [D+1, C] and the GGN block of the logistic head. */
  get logisticPosterior(): { w: Float64Array; block: CurvatureBlock; priorPrecision: number } | null {
    const h = this.head;
    return h?.kind === 'logistic' ? { w: h.w, block: h.block, priorPrecision: h.priorPrecision } : null;
  }

  protected defaultSamples(): number {
    return this.options.predictive === 'probit' ? 1 : (this.options.mcSamples ?? 20);
  }

  /** MAP training of the network (base), then the Bayesian head on the features. */
  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const report = await super.fit(x, y, opts);
    const t0 = performance.now();
    const { features, shape } = await this.features(x);
    await this.fitHead(features, shape[1], y);
    this.headSeconds = (performance.now() - t0) / 1000;
    return report;
  }

  /**
   * Fits only the Bayesian head on given features Φ [N, D] and labels (the network's last layer
   * is the warm start of the logistic MAP). Exposed for tests and re-fitting on new features.
   */
  async fitHead(phi: Float32Array, d: number, y: Int32Array): Promise<void> {
    this.assertAlive();
    this.prepared = null;
    let init: Float64Array | undefined;
    if (this.model === 'logistic') {
      // warm start: the network's trained last layer (kernel rows then bias = W̃ row-major)
      const [kernel, bias] = this.net.model.getLayer('logits').getWeights();
      init = new Float64Array((d + 1) * this.options.numClasses);
      init.set(await kernel.data(), 0);
      init.set(await bias.data(), d * this.options.numClasses);
    }
    this.head = await fitLastLayerHead(phi, d, y, this.options.numClasses, {
      model: this.model,
      hessianStructure: this.hessianStructure,
      priorPrecision: this.options.priorPrecision,
      init,
    });
  }

  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    this.assertAlive();
    const head = this.requireHead();
    const S = opts.samples ?? this.defaultSamples();
    const C = this.options.numClasses;
    const seed = opts.seed ?? this.seed;
    const d = this.net.featureDim;
    if (head.kind === 'linear') {
      const W = tf.tensor2d(headWeightSamples(head, d + 1, C, S, seed), [d + 1, S * C]);
      try {
        return await featurePredictive(this.net, this.imageShape, C, x, S, opts, (z) => {
          // LSPC: p ∝ max(g, 0) + ε
          const g = tf.add(tf.relu(stackedLogits(z, W, S, C)), 1e-4);
          return tf.div(g, tf.sum(g, 2, true)) as tf.Tensor3D;
        });
      } finally {
        W.dispose();
      }
    }
    const prepared = this.preparedBlock();
    if (this.options.predictive === 'probit') {
      const op = glmVarianceOp(prepared, d + 1, C);
      const W = tf.tensor2d(Float32Array.from(head.w), [d + 1, C]);
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
    const W = tf.tensor2d(headWeightSamples(head, d + 1, C, S, seed, prepared), [d + 1, S * C]);
    try {
      return await featurePredictive(this.net, this.imageShape, C, x, S, opts, (z) => tf.softmax(stackedLogits(z, W, S, C)) as tf.Tensor3D);
    } finally {
      W.dispose();
    }
  }

  /** Same predictive for one batch of trunk outputs (used only if called through the base hooks). */
  protected sampleProbs(h: tf.Tensor4D, samples: number, seed: number): tf.Tensor3D {
    const head = this.requireHead();
    const C = this.options.numClasses;
    const d = this.net.featureDim;
    const z = this.net.penultimate(h);
    if (head.kind === 'linear') {
      const W = tf.tensor2d(headWeightSamples(head, d + 1, C, samples, seed), [d + 1, samples * C]);
      const g = tf.add(tf.relu(stackedLogits(z, W, samples, C)), 1e-4);
      return tf.div(g, tf.sum(g, 2, true)) as tf.Tensor3D;
    }
    const W = tf.tensor2d(headWeightSamples(head, d + 1, C, samples, seed, this.preparedBlock()), [d + 1, samples * C]);
    return tf.softmax(stackedLogits(z, W, samples, C)) as tf.Tensor3D;
  }

  protected override state(): Record<string, unknown> | undefined {
    return this.head ? headState(this.head, this.headSeconds) : undefined;
  }

  private restoreState(st: Record<string, unknown>): void {
    this.headSeconds = typeof st.seconds === 'number' ? st.seconds : 0;
    this.head = headFromState(st);
  }

  private requireHead(): LogisticHead | LinearHead {
    if (!this.head) throw new Error("last-layer: call fit first (the Bayesian head is fitted on the training features)");
    return this.head;
  }

  private preparedBlock(): PreparedBlock {
    const h = this.head;
    if (h?.kind !== 'logistic') throw new Error('last-layer: no logistic head');
    return (this.prepared ??= prepareLogisticHead(h));
  }
}
