/**
 * 'sgld': stochastic gradient Langevin dynamics (Welling & Teh, ICML 2011; optim/sgld.ts).
 *
 * `fit` runs the Langevin chain on the network's weights instead of Adam:
 *
 *   θ ← θ − (h_t/2) ∇Û(θ) + N(0, h_t·T),   Û(θ) = −log p(θ) − (N/n) Σ_batch log p(y|x, θ),
 *
 * i.e. minibatch gradients of the mean loss L = NLL_batch + (−log p(θ))/N scaled by N (Û = N·L),
 * prior p(θ) = N(0, τ⁻¹) (τ = N·weightDecay or priorPrecision; 'laplace' prior supported through
 * the same penalty). No dropout. Step size: h_t = h₀ (1 + t/b)^(−γ) with h₀ = 2·learningRate/N (the
 * drift starts as an SGD step of size learningRate on L), γ = 0.55 (Welling & Teh's range
 * (0.5, 1]), b = the burn-in length. Of the fit's epochs × batches steps, the first fraction
 * `sgldBurnIn` (default ½) is burn-in; then one sample is kept every `thin` steps so that exactly
 * `sgldSamples` (default 20) samples fill the bank, the last one at the last step.
 *
 * Which weights are sampled (`subsetOfWeights`):
 * - 'all' (default): every weight; the bank holds S full networks (S·P floats: 20 × 0.5 M at 28 px
 *   = 40 MB, but 20 × 3.4 M at 64 px, 20 × 15 M at 128 px — use 'last-layer' for large images) and
 *   the predictive runs the whole network per sample;
 * - 'last-layer': every weight moves during burn-in, then only the logits layer is sampled (the
 *   rest stays at its last burn-in value); the bank holds logits layers only and the trunk and
 *   penultimate features are computed once per image.
 *
 * Predictive: p_s = softmax(f(x; θ_s)) for the bank samples, S = bank size (fewer with
 * `samples`: the first ones). Before any fit the bank is empty and the current network is used.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvNet } from '../models/convNet.ts';
import { flattenSync, headParamIndex, totalSize, unflatten } from '../layers/galCnnParams.ts';
import { appendArrays, readArrays, requireArray } from '../layers/weightBuffer.ts';
import { polynomialFromInitial, SGLD, SgldPlan } from '../optim/sgld.ts';
import { deriveSeed } from '../util/random.ts';
import { Posterior, type OptimizerContext } from './base.ts';
import type { FitOptions, FitReport, PosteriorOptions, PredictOptions, PredictiveSamples, SerializedPosterior } from './types.ts';

/** Default drift step (an SGD learning rate on the mean loss at t = 0). */
export const SGLD_DEFAULT_LEARNING_RATE = 0.05;
/**
 * For the residual CNN: the injected noise has variance h·T = 2·learningRate·T/N per weight, and at
 * 0.05 with N = 48 its sd (0.045) matches the deeper layers' He-init scale, so the chain forgets the
 * data (bars fixture, 8 epochs: training accuracy 0.50; 1e-3: 0.81, and 1.0 with T = 0.1).
 */
export const SGLD_DEFAULT_LEARNING_RATE_RESNET = 1e-3;
export const SGLD_DEFAULT_SAMPLES = 20;
export const SGLD_DEFAULT_BURN_IN = 0.5;
export const SGLD_GAMMA = 0.55;

/** The chain of the last fit (serialised in json.state.sgld). */
export interface SgldChainInfo {
  samples: number;
  steps: number;
  burnIn: number;
  thin: number;
  h0: number;
  gamma: number;
  temperature: number;
  subsetOfWeights: 'all' | 'last-layer';
}

export class SGLDPosterior extends Posterior<ConvNet> {
  readonly method = 'sgld' as const;
  /** Indices (in the order of ConvNet.trainableVariables) of the sampled variables. */
  private readonly sampled: number[];
  private readonly shapes: number[][];
  /** P: floats per bank sample. */
  private readonly perSample: number;

  /** 'all': the whole network runs per bank sample (no shared trunk). */
  private get samplesAllWeights(): boolean {
    return this.sampled.length === this.net.trainableVariables.length;
  }
  /** Bank [S, P] and how many samples it holds. */
  private bank: Float32Array | null = null;
  private chain: SgldChainInfo | null = null;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    const params = this.net.trainableVariables;
    const logits = headParamIndex(this.net, 'logits');
    this.sampled = options.subsetOfWeights === 'last-layer' ? [logits, logits + 1] : params.map((_, i) => i);
    this.shapes = this.sampled.map((i) => params[i].shape);
    this.perSample = totalSize(this.shapes);
    const state = from?.json.state?.sgld as SgldChainInfo | undefined;
    if (from && state) {
      const a = requireArray(readArrays(from), 'sgld/bank', 'SGLD bank');
      if (a.values.length !== state.samples * this.perSample) throw new Error(`deserialize: SGLD bank has ${a.values.length} values, expected ${state.samples} × ${this.perSample}`);
      this.bank = a.values;
      this.chain = { ...state };
    }
  }

  /** The chain of the last fit (null before). */
  get chainInfo(): Readonly<SgldChainInfo> | null {
    return this.chain;
  }

  /** Samples in the bank (0 before fit). */
  get bankSize(): number {
    return this.chain && this.bank ? this.chain.samples : 0;
  }

  /** Bank sample i as flat parameters (a copy), in the order of the sampled variables. */
  bankSample(i: number): Float32Array {
    if (!this.bank || i < 0 || i >= this.bankSize) throw new Error(`sgld: no bank sample ${i} (bank size ${this.bankSize})`);
    return this.bank.slice(i * this.perSample, (i + 1) * this.perSample);
  }

  protected defaultSamples(): number {
    return this.bankSize || this.options.sgldSamples || SGLD_DEFAULT_SAMPLES;
  }

  /** Runs the chain (learning rate default 0.05, see the file comment) and fills the bank. */
  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    const rate = this.net.architecture === 'resnet' ? SGLD_DEFAULT_LEARNING_RATE_RESNET : SGLD_DEFAULT_LEARNING_RATE;
    return super.fit(x, y, { ...opts, learningRate: opts.learningRate ?? rate });
  }

  /** Checks `samples` against the bank before predicting. */
  override async predictiveSamples(x: Uint8Array, opts: PredictOptions = {}): Promise<PredictiveSamples> {
    if (opts.samples !== undefined && this.bankSize > 0 && opts.samples > this.bankSize) {
      throw new Error(`sgld: ${opts.samples} samples requested but the bank holds ${this.bankSize} (sgldSamples)`);
    }
    return super.predictiveSamples(x, opts);
  }

  protected override createOptimizer(ctx: OptimizerContext): tf.Optimizer {
    const S = this.options.sgldSamples ?? SGLD_DEFAULT_SAMPLES;
    const burnFraction = this.options.sgldBurnIn ?? SGLD_DEFAULT_BURN_IN;
    const total = ctx.epochs * ctx.batches;
    const thin = Math.max(1, Math.floor((total * (1 - burnFraction)) / S));
    const burnIn = total - S * thin;
    if (burnIn < 0) {
      throw new Error(`sgld: the fit has ${total} steps (epochs × batches) but sgldSamples = ${S} needs at least ${S}; train longer or lower sgldSamples`);
    }
    const h0 = (2 * ctx.learningRate) / ctx.examples;
    const temperature = this.options.sgldTemperature ?? 1;
    const plan = new SgldPlan({ schedule: polynomialFromInitial(h0, Math.max(1, burnIn), SGLD_GAMMA), burnIn, thin, samples: S, temperature });
    const params = this.net.trainableVariables;
    const sampledVars = this.sampled.map((i) => params[i]);
    const frozen = new Set(params.filter((_, i) => !this.sampled.includes(i)).map((v) => v.name));
    const bank = new Float32Array(S * this.perSample);
    this.bank = null;
    this.chain = null;
    const info: SgldChainInfo = {
      samples: S,
      steps: total,
      burnIn,
      thin,
      h0,
      gamma: SGLD_GAMMA,
      temperature,
      subsetOfWeights: this.options.subsetOfWeights === 'last-layer' ? 'last-layer' : 'all',
    };
    return new SGLD({
      plan,
      examples: ctx.examples,
      frozenAfterBurnIn: frozen,
      seed: deriveSeed(ctx.seed, 0x561d),
      onSample: (k) => {
        bank.set(flattenSync(sampledVars), k * this.perSample);
        if (k === S - 1) {
          this.bank = bank;
          this.chain = info;
        }
      },
    });
  }

  /** No dropout: the chain is the only randomness. */
  protected override trainingLogits(x: tf.Tensor4D): tf.Tensor2D {
    return this.net.logits(x, { dropout: 'none' });
  }

  /** 'all' with a bank: the whole network runs per sample, so the input is the image batch. */
  protected override predictiveInput(x: tf.Tensor4D): tf.Tensor4D {
    return this.bankSize > 0 && this.samplesAllWeights ? x : this.net.trunk(x);
  }

  /** [S, B, C] for bank samples offset … offset + S − 1 (the current network before any fit). */
  protected sampleProbs(input: tf.Tensor4D, samples: number, _seed: number, _consistent?: boolean, offset = 0): tf.Tensor3D {
    const b = input.shape[0];
    const C = this.options.numClasses;
    if (this.bankSize === 0 || !this.bank) {
      const p = tf.expandDims(tf.softmax(this.net.head(input, { dropout: 'none' })), 0) as tf.Tensor3D;
      return samples === 1 ? p : (tf.tile(p, [samples, 1, 1]) as tf.Tensor3D);
    }
    const bank = this.bank;
    const outs: tf.Tensor2D[] = [];
    const z = this.samplesAllWeights ? null : this.net.penultimate(input, { dropout: 'none' });
    for (let j = 0; j < samples; j++) {
      const i = offset + j;
      outs.push(
        tf.tidy(() => {
          const params = unflatten(bank, this.shapes, i * this.perSample);
          const logits = z ? (tf.add(tf.matMul(z, params[0] as tf.Tensor2D), params[1]) as tf.Tensor2D) : this.net.logitsWith(input, params);
          return tf.softmax(logits) as tf.Tensor2D;
        }),
      );
    }
    return tf.reshape(tf.stack(outs), [samples, b, C]) as tf.Tensor3D;
  }

  /** The network (the chain's last state) plus the bank [S, P]. */
  override async serialize(): Promise<SerializedPosterior> {
    const s = await super.serialize();
    if (!this.bank || !this.chain) return s;
    return appendArrays(s, [{ name: 'sgld/bank', shape: [this.chain.samples, this.perSample], values: this.bank }], { sgld: { ...this.chain } });
  }
}

/** Options of 'sgld' (registry `validate`). */
export function validateSgldOptions(o: PosteriorOptions): void {
  if (o.sgldSamples !== undefined && !(Number.isInteger(o.sgldSamples) && o.sgldSamples >= 1)) {
    throw new Error(`sgldSamples must be a positive integer; got ${o.sgldSamples}`);
  }
  if (o.sgldBurnIn !== undefined && !(o.sgldBurnIn >= 0 && o.sgldBurnIn < 1)) throw new Error(`sgldBurnIn must be in [0, 1); got ${o.sgldBurnIn}`);
  if (o.sgldTemperature !== undefined && !(Number.isFinite(o.sgldTemperature) && o.sgldTemperature > 0)) {
    throw new Error(`sgldTemperature must be a finite number > 0; got ${o.sgldTemperature}`);
  }
}
