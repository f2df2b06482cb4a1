/**
 * 'vi': mean-field variational inference by Bayes by Backprop (Blundell, Cornebise, Kavukcuoglu &
 * Wierstra, "Weight Uncertainty in Neural Networks", ICML 2015).
 *
 * The weights of the Bayesian layers get q(w) = N(μ, σ²) per weight, σ = softplus(ρ) (§3.2);
 * training minimises the negative ELBO per example (eq. 1–2, minibatch form of §3.4 with the KL
 * spread evenly over the N examples):
 *
 *   L(μ, ρ) = 1/n Σ_{i ∈ batch} −log p(y_i | x_i, w) + KL(q(w) ‖ p(w)) / N,  w = μ + σ ⊙ ε, ε ~ N(0, I)
 *
 * with one weight draw per minibatch (the reparameterisation of §3.2) and the closed-form KL to the
 * Gaussian prior p(w) = N(0, τ⁻¹ I) (layers/meanField.ts `gaussianKl`), by Adam (base `fit`, learning
 * rate and weight decay as for every method).
 *
 * Which layers are Bayesian (`subsetOfWeights`):
 * - 'all' (default): both dense layers of the Gal CNN (dense1 3872→128 at 28 px, and logits);
 * - 'last-layer': the logits layer only.
 * The convolutions (and dense1 with 'last-layer') stay point estimates: MAP with the same prior as
 * an L2 penalty (weightDecay/2 · Σw²). Dropout is not used (q(w) is the only randomness).
 *
 * Prior precision: τ = priorPrecision if given, else τ = N · weightDecay (the library's convention
 * weightDecay = τ/N). σ starts at softplus(−3) ≈ 0.049 (ρ₀ = −3, see VI_RHO_INIT), μ at the
 * network's Glorot init.
 *
 * Predictive: the trunk once per image, then S draws of the dense layers by the local
 * reparameterisation trick (Kingma, Salimans & Welling 2015: exact per-image marginals, two matmuls
 * per layer instead of S weight draws); with `consistentMasks`, S weight draws shared by all images.
 * The network's own dense weights are μ, so `features()` and the mean network are available.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { denseWith, flattenFeatures, headParamIndex } from '../layers/galCnnParams.ts';
import { gaussianDenseStack, gaussianKl, sampleGaussian, softplusSigma, toVariable, type GaussianDense } from '../layers/meanField.ts';
import { appendArrays, readArrays, requireArray } from '../layers/weightBuffer.ts';
import { deriveSeed } from '../util/random.ts';
import { countImages } from '../util/tensors.ts';
import { Posterior } from './base.ts';
import type { FitOptions, FitReport, PosteriorOptions, SerializedPosterior } from './types.ts';

/**
 * ρ₀ = −3: initial σ = softplus(−3) ≈ 0.049 for every Bayesian weight (bayesian-torch's default
 * `posterior_rho_init`). Adam moves ρ by about one learning rate per step, so over the short fits of
 * active learning σ stays near ρ₀'s value: measured on a synthetic 28 px task (N = 100, 10 epochs),
 * ρ₀ = −5 gave BALD ≈ 0 everywhere (VI ≈ MAP), ρ₀ = −3 the ID < OOD ordering of MC dropout at the
 * same accuracy.
 */
export const VI_RHO_INIT = -3;

type DenseName = 'dense1' | 'logits';

export class VIPosterior extends Posterior<ConvNet> {
  readonly method = 'vi' as const;
  /** Bayesian layers, in network order. */
  readonly bayesianLayers: readonly DenseName[];
  /** ρ of each Bayesian layer: [kernel ρ, bias ρ]. */
  private readonly rho = new Map<DenseName, [tf.Variable, tf.Variable]>();
  /** N of the current fit (the KL is divided by it). */
  private examples = 0;

  constructor(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior) {
    super(options, net);
    this.bayesianLayers = options.subsetOfWeights === 'last-layer' ? ['logits'] : ['dense1', 'logits'];
    const params = this.net.trainableVariables;
    const stored = from ? readArrays(from) : null;
    for (const layer of this.bayesianLayers) {
      const k = headParamIndex(this.net, layer);
      const make = (i: number, part: 'kernel' | 'bias') => {
        const shape = params[i].shape;
        if (stored) {
          const a = requireArray(stored, `vi/rho/${layer}/${part}`, 'VI parameter ρ');
          if (!tf.util.arraysEqual(a.shape, shape)) throw new Error(`deserialize: ρ of ${layer}/${part} has shape [${a.shape}], expected [${shape}]`);
          return toVariable(tf.tensor(a.values, shape), true);
        }
        return toVariable(tf.fill(shape, VI_RHO_INIT), true);
      };
      this.rho.set(layer, [make(k, 'kernel'), make(k + 1, 'bias')]);
    }
  }

  protected defaultSamples(): number {
    return this.options.mcSamples ?? 20;
  }

  /** σ per Bayesian layer: [kernel σ, bias σ] (new tensors; caller disposes). */
  sigmas(): Map<DenseName, [tf.Tensor, tf.Tensor]> {
    const out = new Map<DenseName, [tf.Tensor, tf.Tensor]>();
    for (const [layer, [rk, rb]] of this.rho) out.set(layer, [softplusSigma(rk), softplusSigma(rb)]);
    return out;
  }

  /** Trains μ (the network) and ρ by Adam on the negative ELBO / N (see the file comment). */
  override async fit(x: Uint8Array, y: Int32Array, opts: FitOptions = {}): Promise<FitReport> {
    this.assertAlive();
    this.examples = countImages(x, this.imageShape);
    return super.fit(x, y, opts);
  }

  protected override fitVariables(): tf.Variable[] {
    return [...this.net.trainableVariables, ...[...this.rho.values()].flat()];
  }

  /** One weight draw w = μ + σ ⊙ ε for the Bayesian layers (seeded per batch), no dropout. */
  protected override trainingLogits(x: tf.Tensor4D, seed: number): tf.Tensor2D {
    const params = this.net.trainableVariables;
    let z = flattenFeatures(this.net.trunk(x));
    (['dense1', 'logits'] as const).forEach((layer, li) => {
      const k = headParamIndex(this.net, layer);
      let w: tf.Tensor = params[k];
      let b: tf.Tensor = params[k + 1];
      const rho = this.rho.get(layer);
      if (rho) {
        w = sampleGaussian(w, softplusSigma(rho[0]), deriveSeed(seed, 2 * li));
        b = sampleGaussian(b, softplusSigma(rho[1]), deriveSeed(seed, 2 * li + 1));
      }
      z = denseWith(z, w, b, layer === 'dense1');
    });
    return z;
  }

  /**
   * −log p(w)/N for the point-estimate weights (L2, weightDecay/2·Σw²) + KL(q ‖ p)/N for the
   * Bayesian layers, with p = N(0, τ⁻¹), τ = N·weightDecay.
   */
  protected override penalty(weightDecay: number): tf.Scalar {
    const n = this.examples;
    if (!(weightDecay > 0) || n < 1) throw new Error(`vi: the prior precision must be > 0 (weightDecay ${weightDecay}, N ${n})`);
    const tau = weightDecay * n;
    const params = this.net.trainableVariables;
    const terms: tf.Scalar[] = [];
    const t = this.net.trunkParamCount;
    params.forEach((p, i) => {
      if (i >= t) {
        const rho = this.rho.get(i < t + 2 ? 'dense1' : 'logits');
        if (rho) {
          terms.push(tf.div(gaussianKl(p, softplusSigma(rho[i % 2]), tau), n) as tf.Scalar);
          return;
        }
      }
      terms.push(tf.mul(weightDecay / 2, tf.sum(tf.square(p))) as tf.Scalar);
    });
    return tf.addN(terms) as tf.Scalar;
  }

  /** Trunk output h [B, h', w', F] → [S, B, C]: S draws of the Bayesian dense layers. */
  protected sampleProbs(h: tf.Tensor4D, samples: number, seed: number, consistent = false): tf.Tensor3D {
    const b = h.shape[0];
    const params = this.net.trainableVariables;
    const layers: GaussianDense[] = (['dense1', 'logits'] as const).map((layer) => {
      const k = headParamIndex(this.net, layer);
      const rho = this.rho.get(layer);
      return {
        kernel: params[k],
        bias: params[k + 1],
        kernelVar: rho ? tf.square(softplusSigma(rho[0])) : null,
        biasVar: rho ? tf.square(softplusSigma(rho[1])) : null,
        relu: layer === 'dense1',
      };
    });
    const logits = gaussianDenseStack(flattenFeatures(h), layers, samples, seed, consistent ? 'weights' : 'local');
    return tf.reshape(tf.softmax(logits), [samples, b, this.options.numClasses]) as tf.Tensor3D;
  }

  /** The network (μ) plus ρ of the Bayesian layers. */
  override async serialize(): Promise<SerializedPosterior> {
    const s = await super.serialize();
    const arrays = [];
    for (const [layer, [rk, rb]] of this.rho) {
      arrays.push({ name: `vi/rho/${layer}/kernel`, shape: rk.shape, values: (await rk.data()) as Float32Array });
      arrays.push({ name: `vi/rho/${layer}/bias`, shape: rb.shape, values: (await rb.data()) as Float32Array });
    }
    return appendArrays(s, arrays, { vi: { bayesianLayers: [...this.bayesianLayers], rhoInit: VI_RHO_INIT } });
  }

  override dispose(): void {
    if (this.isDisposed) return;
    for (const pair of this.rho.values()) tf.dispose(pair);
    this.rho.clear();
    super.dispose();
  }
}
