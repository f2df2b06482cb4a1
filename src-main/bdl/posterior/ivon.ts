/**
 * 'ivon': variational learning with IVON (Shen et al., "Variational Learning is Effective for Large
 * Deep Networks", ICML 2024; the optimiser is optim/ivon.ts, Algorithm 1).
 *
 * q(θ) = N(m, diag σ²) over ALL weights of the Gal CNN (convolutions and dense layers, kernels and
 * biases), σ = 1/√(λ(h + δ)): m is the network's own weights, h a Hessian estimate kept beside it.
 * Training runs IVON on the minibatch mean NLL of the network in training mode (dropout on, as MAP;
 * the prior is the weight decay δ, p(θ) = N(0, I/(λδ))), with a cosine-decayed learning rate.
 *
 * Prediction (`ivonPredict`):
 * - 'samples' (default): S draws θ_s ~ q, p_s = softmax(f(x; θ_s)) — the convolution weights are
 *   drawn per sample, the dense layers by the local reparameterisation trick (exact per-image
 *   marginals; with `consistentMasks`, weight draws shared by all images), so the whole network runs
 *   S times (no shared trunk);
 * - 'mean': "IVON@mean", the network at m, S = 1 (BALD is then 0: use it for accuracy, not for
 *   acquisition).
 *
 * Hyper-parameters (FitOptions / PosteriorOptions) and why:
 * - α = learningRate, default 0.8, 0.1 for the residual CNN (the paper uses 0.1–0.5 for ResNets trained 10–100× longer),
 *   rescaled by (h₀ + δ) as in the authors' code so the first step is an SGD step of size α; cosine
 *   decay to 0.
 * - λ = ivonEss, default N (the training-set size, as the paper).
 * - δ = weightDecay (default 1e-4, or τ/N with priorPrecision τ); must be > 0.
 * - h₀ = ivonHessInit, default max(0.1, 1/(λ σ₀²)) with σ₀ = 0.02 (IVON_MAX_INIT_SIGMA). The
 *   paper's h₀ = 0.1 comes with λ = N ≥ 5·10⁴, i.e. an initial σ = 1/√(λh₀) below ~0.015; in active
 *   learning N is 10–10³ and h₀ = 0.1 gives σ ≈ 0.5 at N = 40, which destroys the Gal CNN (measured:
 *   the loss became NaN in the third epoch). So h₀ is raised until σ₀ ≤ 0.02, and equals the paper's
 *   0.1 once λ ≥ 25 000.
 * - β₁ = 0.9 (paper); β₂ = 0.999 (IVON_DEFAULT_BETA2), not the paper's 0.99999: the paper trains for
 *   10⁴–10⁵ steps, an active-learning fit for a few hundred, and with β₂ = 0.99999 h never leaves h₀.
 * - the Gal CNN's dropout stays on while training, as for MAP (the gradient is taken at a weight
 *   sample θ ~ q with dropout masks); prediction samples weights only.
 * - one MC sample per step (the paper's default), no clipping.
 *
 * Measured on MNIST (1,000 labels, images 8000–9999, 20 epochs, batch 64; `episteme compare`), the
 * S = 20 predictive (IVON@mean in brackets), seed 0; MAP/Adam 0.9545 / 0.165 / 0.022:
 *   β₂ 0.999,   α 0.8, dropout:    top-1 0.964,  NLL 0.135, ECE 0.012  (0.965 / 0.140 / 0.015)
 *     seed 1:                            0.957,       0.149,     0.017  (MAP 0.9545 / 0.159 / 0.021)
 *   β₂ 0.999,   α 0.5, dropout:          0.9575,      0.133,     0.010  (0.960 / 0.136 / 0.012)
 *     seed 1:                            0.9545,      0.162,     0.016  (NLL above MAP's 0.159)
 *   β₂ 0.999,   α 0.3, dropout:          0.940,       0.183,     0.014
 *   β₂ 0.999,   α 0.2, dropout:          0.936,       0.210,     0.010  (under-fits)
 *   β₂ 0.999,   α 0.5, no dropout:       0.940,       0.282,     0.032  (over-fits)
 *   β₂ 0.99,    α 0.2, dropout:          0.951,       0.204,     0.069  (h → ~0.1: σ too wide)
 *   β₂ 0.99999, α 0.2, dropout:          0.934,       0.220,     0.014  (h stays h₀)
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { flattenFeatures, headParamIndex } from '../layers/galCnnParams.ts';
import { gaussianDenseStack, sampleGaussian, toVariable } from '../layers/meanField.ts';
import { appendArrays, readArrays, requireArray } from '../layers/weightBuffer.ts';
import { IVON, IVON_DEFAULTS, ivonSigma } from '../optim/ivon.ts';
import { deriveSeed } from '../util/random.ts';
import { Posterior, type OptimizerContext } from './base.ts';
import type { FitOptions, FitReport, PosteriorOptions, SerializedPosterior } from './types.ts';

/** Default α of IVON (Shen et al. 2024 use 0.1–0.5 with the (h₀ + δ) rescaling on far longer runs; see the file comment). */
export const IVON_DEFAULT_LEARNING_RATE = 0.8;
/**
 * α for the residual CNN. Its first steps are SGD steps of size α, and with GroupNorm α = 0.8 blows
 * the loss up (measured on the bars fixture, 48 images, 12 epochs: loss 169 after epoch 1, training
 * accuracy 0.50; α = 0.3: 0.71; α = 0.1 and 0.05: 0.98).
 */
export const IVON_DEFAULT_LEARNING_RATE_RESNET = 0.1;
/** β₂ for fits of a few hundred steps (the paper's 0.99999 suits 10⁴–10⁵; see the file comment). */
export const IVON_DEFAULT_BETA2 = 0.999;
/** Largest initial σ the default h₀ allows: h₀ = max(0.1, 1/(λ σ₀²)) (see the file comment). */
export const IVON_MAX_INIT_SIGMA = 0.02;

/** Default h₀ for effective sample size λ: the paper's 0.1, raised so that 1/√(λ h₀) ≤ IVON_MAX_INIT_SIGMA. */
export function ivonDefaultHessInit(ess: number): number {
  return Math.max(IVON_DEFAULTS.hessInit, 1 / (ess * IVON_MAX_INIT_SIGMA * IVON_MAX_INIT_SIGMA));
}

/** What the fitted posterior needs besides m and h (serialised in json.state.ivon). */
interface IvonState {
  ess: number;
  weightDecay: number;
  hessInit: number;
  steps: number;
}

export class IVONPosterior extends Posterior<ConvNet> {
  readonly method = 'ivon' as const;
  /** h, one tensor per network variable (order of ConvNet.trainableVariables); null before the first fit. */
  private hess: tf.Variable[] | null = null;
  private fitted: IvonState | null = null;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    const state = from?.json.state?.ivon as IvonState | undefined;
    if (from && state) {
      const arrays = readArrays(from);
      const params = this.net.trainableVariables;
      this.hess = params.map((p, i) => {
        const a = requireArray(arrays, `ivon/hess/${i}`, 'IVON Hessian');
        if (!tf.util.arraysEqual(a.shape, p.shape)) throw new Error(`deserialize: IVON Hessian ${i} has shape [${a.shape}], expected [${p.shape}]`);
        return toVariable(tf.tensor(a.values, p.shape), false);
      });
      this.fitted = { ...state };
    }
  }

  /** λ, δ, h₀ and steps of the last fit (null before). */
  get ivonState(): Readonly<IvonState> | null {
    return this.fitted;
  }

  private get predictMode(): 'mean' | 'samples' {
    return this.options.ivonPredict ?? 'samples';
  }

  protected defaultSamples(): number {
    return this.predictMode === 'mean' ? 1 : (this.options.mcSamples ?? 20);
  }

  /** Runs IVON (learning rate default 0.8, 0.1 for the residual CNN) on the mean NLL; see the file comment. */
  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const alpha = this.net.architecture === 'resnet' ? IVON_DEFAULT_LEARNING_RATE_RESNET : IVON_DEFAULT_LEARNING_RATE;
    return super.fit(x, y, { ...opts, learningRate: opts.learningRate ?? alpha });
  }

  protected override createOptimizer(ctx: OptimizerContext): tf.Optimizer {
    const ess = this.options.ivonEss ?? ctx.examples;
    const hessInit = this.options.ivonHessInit ?? ivonDefaultHessInit(ess);
    if (!(ctx.weightDecay > 0)) throw new Error(`ivon: weightDecay (δ, the prior) must be > 0, got ${ctx.weightDecay}`);
    if (this.hess) tf.dispose(this.hess);
    this.fitted = null;
    this.hess = this.net.trainableVariables.map((p) => toVariable(tf.fill(p.shape, hessInit), false));
    const total = ctx.epochs * ctx.batches;
    const state: IvonState = { ess, weightDecay: ctx.weightDecay, hessInit, steps: total };
    this.fitted = state;
    return new IVON(
      {
        learningRate: ctx.learningRate,
        ess,
        weightDecay: ctx.weightDecay,
        hessInit,
        beta2: IVON_DEFAULT_BETA2,
        // cosine decay of α over the fit (Loshchilov & Hutter 2017), as the paper's ResNet runs
        lrSchedule: (t) => 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / total)),
        seed: deriveSeed(ctx.seed, 0x1702),
      },
      this.hess,
    );
  }

  /** The loss IVON sees is the mean NLL only: its weight decay δ is the prior. */
  protected override penalty(): tf.Scalar {
    return tf.scalar(0);
  }

  /** 'samples': the whole network runs per weight sample, so the input is the image batch itself. */
  protected override predictiveInput(x: tf.Tensor4D): tf.Tensor4D {
    return this.predictMode === 'mean' || !this.fitted ? this.net.trunk(x) : x;
  }

  /**
   * 'samples': images x [B,H,W,C] → [S, B, C] from S draws θ_s ~ q. 'mean' (or before any fit):
   * trunk output → the network at m, repeated S times.
   */
  protected sampleProbs(input: tf.Tensor4D, samples: number, seed: number, consistent = false): tf.Tensor3D {
    const b = input.shape[0];
    const C = this.options.numClasses;
    if (this.predictMode === 'mean' || !this.fitted || !this.hess) {
      const p = tf.expandDims(tf.softmax(this.net.head(input, { dropout: 'none' })), 0) as tf.Tensor3D;
      return samples === 1 ? p : (tf.tile(p, [samples, 1, 1]) as tf.Tensor3D);
    }
    const { ess, weightDecay } = this.fitted;
    const m = this.net.trainableVariables;
    const sigma = this.hess.map((h) => ivonSigma(h, ess, weightDecay));
    const t = this.net.trunkParamCount;
    const outs: tf.Tensor2D[] = [];
    for (let s = 0; s < samples; s++) {
      const ss = deriveSeed(seed, s);
      outs.push(
        tf.tidy(() => {
          // The trunk: one weight draw per sample (shared by the batch).
          const trunk = m.slice(0, t).map((w, i) => sampleGaussian(w, sigma[i], deriveSeed(ss, i)));
          const z = flattenFeatures(this.net.trunkWith(input, trunk));
          const dense = [headParamIndex(this.net, 'dense1'), headParamIndex(this.net, 'logits')].map((k, j) => ({
            kernel: m[k],
            bias: m[k + 1],
            kernelVar: tf.square(sigma[k]),
            biasVar: tf.square(sigma[k + 1]),
            relu: j === 0,
          }));
          return tf.softmax(gaussianDenseStack(z, dense, 1, deriveSeed(ss, 99), consistent ? 'weights' : 'local')) as tf.Tensor2D;
        }),
      );
    }
    return tf.reshape(tf.stack(outs), [samples, b, C]) as tf.Tensor3D;
  }

  /** σ = 1/√(λ(h + δ)) of every weight (new tensors, order of the network's variables), or null before fit. */
  sigmas(): tf.Tensor[] | null {
    if (!this.fitted || !this.hess) return null;
    const { ess, weightDecay } = this.fitted;
    return this.hess.map((h) => ivonSigma(h, ess, weightDecay));
  }

  /** The network (m) plus h and (λ, δ, h₀). */
  override async serialize(): Promise<SerializedPosterior> {
    const s = await super.serialize();
    if (!this.fitted || !this.hess) return s;
    const arrays = [];
    for (let i = 0; i < this.hess.length; i++) {
      arrays.push({ name: `ivon/hess/${i}`, shape: this.hess[i].shape, values: (await this.hess[i].data()) as Float32Array });
    }
    return appendArrays(s, arrays, { ivon: { ...this.fitted } });
  }

  override dispose(): void {
    if (this.isDisposed) return;
    if (this.hess) tf.dispose(this.hess);
    this.hess = null;
    super.dispose();
  }
}

/** Options of 'ivon' (registry `validate`). */
export function validateIvonOptions(o: PosteriorOptions): void {
  if (o.ivonPredict !== undefined && o.ivonPredict !== 'mean' && o.ivonPredict !== 'samples') {
    throw new Error(`ivonPredict must be 'mean' or 'samples'; got '${String(o.ivonPredict)}'`);
  }
  if (o.ivonEss !== undefined && !(Number.isFinite(o.ivonEss) && o.ivonEss > 0)) throw new Error(`ivonEss (λ) must be a finite number > 0; got ${o.ivonEss}`);
  if (o.ivonHessInit !== undefined && !(Number.isFinite(o.ivonHessInit) && o.ivonHessInit > 0)) {
    throw new Error(`ivonHessInit (h₀) must be a finite number > 0; got ${o.ivonHessInit}`);
  }
}
