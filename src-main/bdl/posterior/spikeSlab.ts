/**
 * Spike-and-slab prior on the input layer (the first convolution) of the Gal CNN, with one inclusion
 * probability per input channel, fitted by a proximal step in Adam's metric.
 *
 * Input units. A convolution reads every input channel (R, G, B; a modality) at every position, so the
 * only inputs it can select are channels: unit c is the group w_c = kernel[:, :, c, :] (d = kh·kw·Cout
 * weights). (Kernel taps are not inputs — every tap sees every pixel — and the earlier per-tap units
 * did not select the signal.) A latent z_c ∈ {0, 1} per channel, p(z_c = 1) = π and
 *
 *   u_c | z_c = 1 ~ Ψ(λ₁) (slab),   u_c | z_c = 0 ~ Ψ(λ₀) (spike),   Ψ(u | λ) ∝ λ^d exp(−λ‖u‖₂),
 *
 * the spike-and-slab group lasso of Bai, Moran, Antonelli, Chen & Boland (2020, JASA, "Spike-and-slab
 * group lassos for grouped regression and sparse generalized additive models"), λ₀ = c·λ₁. Its −log
 * marginal is the penalty; its gradient in ‖u_c‖ is the adaptive rate λ*_c = γ_c λ₁ + (1 − γ_c) λ₀, with
 *
 *   γ_c = p(z_c = 1 | u_c) = π Ψ(u_c | λ₁) / (π Ψ(u_c | λ₁) + (1 − π) Ψ(u_c | λ₀))   (reported after the fit).
 *
 * Scale. The input layer's scale is not identified (ReLU networks are positively homogeneous; the
 * other layers' Gaussian is vague), and a prior on raw weights puts every unit in the spike. So the
 * prior is on u_c = w_c / s, s² = Σ_c ‖w_c‖² / (Cin·d) the layer's mean square: λ₁ = √d (the slab's
 * mean norm √d is that of a typical group), c = SPIKE_SLAB_DEFAULTS.spikeRatio, π = ½. It is
 * invariant to rescaling the layer, so with one channel it is constant (createPosterior refuses it).
 *
 * Optimisation. With the penalty in Adam's loss the fit was sparse but kept whichever units were
 * largest at initialisation (γ 0.38–0.56 signal vs 0.31–0.50 noise): once the data are fitted the
 * prior's pull dominates conv1's gradient and Adam gives every weight the same step. So Adam sees only
 * the NLL and the other penalties, and after each step the kernel takes a proximal step for the prior
 * in Adam's own metric (ProxGen, Yun, Lozano & Yang 2021, NeurIPS), the diagonal preconditioner
 * averaged per group so the group prox stays closed-form: step η_c = lr / (√v̂_c + ε), v̂_c the
 * bias-corrected running mean (β₂ of Adam) of channel c's squared NLL gradient; the group
 * soft-threshold at fixed s, ‖w_c‖ ← max(0, ‖w_c‖ − η_c λ*_c / (N s)) (the SSGL threshold, the
 * penalty being −log prior / N); then the layer's norm is restored, since the prior is
 * scale-invariant (its gradient is orthogonal to w). A channel the NLL uses has a large v̂_c, a small
 * η_c and survives; a channel it does not use has a small v̂_c and goes to exactly 0 (γ_c = 0).
 * Measured (test/bdl/spikeSlabSelection.test.ts and README "Priors"): the informative channel ends
 * at γ = 1 and the noise channels at 0, whichever channel carries the signal. The units compete for
 * a layer of fixed size, so with several similar channels expect the prior to keep few of them.
 */
import * as tf from '@tensorflow/tfjs';

export const SPIKE_SLAB_DEFAULTS = { inclusion: 0.5, spikeRatio: 10 } as const;

export interface SpikeSlabReport {
  /** π, the prior inclusion probability of every input channel. */
  inclusion: number;
  /** c = λ₀ / λ₁, spike over slab rate (on the scale-normalised groups). */
  spikeRatio: number;
  /** [kh, kw, Cin] of the first convolution's kernel. */
  inputShape: [number, number, number];
  /** γ_c for each input channel [Cin]. */
  perChannel: number[];
}

/** The first convolution's kernel variable [kh, kw, Cin, Cout] (the input layer). */
export function inputKernel(net: { model: tf.LayersModel }): tf.Variable {
  // The first weight of either architecture is its first convolution's kernel (Gal CNN conv1, resnet stem).
  const kernel = net.model.trainableWeights[0];
  if (!kernel || kernel.shape.length !== 4) throw new Error('spike-slab: the network does not start with a convolution kernel');
  return kernel.read() as tf.Variable;
}

function kernelShape(kernel: tf.Tensor): [number, number, number, number] {
  if (kernel.rank !== 4) throw new Error(`spike-slab: expected a conv kernel [kh, kw, Cin, Cout], got shape [${kernel.shape.join(', ')}]`);
  return kernel.shape as [number, number, number, number];
}

/**
 * For the kernel [kh, kw, Cin, Cout]: ‖w_c‖² [Cin], s² (the layer's mean square), d, λ₁, and log π Ψ(u_c | λ₁),
 * log (1 − π) Ψ(u_c | λ₀) [Cin] (without the constant common to both), and the larger of the two at u = 0.
 * Call inside tidy.
 */
function logJoint(kernel: tf.Tensor) {
  const [kh, kw, cin, cout] = kernelShape(kernel);
  const d = kh * kw * cout;
  const sq = tf.sum(tf.square(kernel), [0, 1, 3]) as tf.Tensor1D;
  const s2 = tf.add(tf.div(tf.mean(sq), d), 1e-30);
  // ‖u_c‖ = ‖w_c‖ / s; the epsilon keeps the gradient finite at 0.
  const norm = tf.sqrt(tf.add(tf.div(sq, s2), 1e-12));
  const { inclusion: pi, spikeRatio: c } = SPIKE_SLAB_DEFAULTS;
  const l1 = Math.sqrt(d);
  const slab0 = Math.log(pi) + d * Math.log(l1);
  const spike0 = Math.log(1 - pi) + d * Math.log(c * l1);
  return {
    cin,
    sq,
    s2,
    l1,
    slab: tf.sub(slab0, tf.mul(norm, l1)) as tf.Tensor1D,
    spike: tf.sub(spike0, tf.mul(norm, c * l1)) as tf.Tensor1D,
    atZero: Math.max(slab0, spike0) + Math.log1p(Math.exp(-Math.abs(slab0 - spike0))),
  };
}

/**
 * −Σ_c log p(u_c) + Cin·log p(0) for the kernel [kh, kw, Cin, Cout]: the negative log prior of its
 * scale-normalised channel groups up to a constant, shifted to be ≥ 0. The objective whose proximal
 * step {@link SpikeSlabProximalAdam} takes. Call inside tidy.
 */
export function spikeSlabPenalty(kernel: tf.Tensor): tf.Scalar {
  const { slab, spike, atZero } = logJoint(kernel);
  return tf.sub(atZero * slab.shape[0], tf.sum(tf.logSumExp(tf.stack([slab, spike]), 0))) as tf.Scalar;
}

/**
 * One proximal step of the spike-and-slab penalty / N on `kernel` [kh, kw, Cin, Cout] with step η_c per
 * channel (`eta` [Cin]): group soft-threshold at λ*_c (s fixed), then the layer's norm restored (see
 * the file comment). Updates the variable in place.
 */
export function spikeSlabProx(kernel: tf.Variable, eta: number[], examples: number): void {
  tf.tidy(() => {
    const { cin, sq, s2, l1, slab, spike } = logJoint(kernel);
    if (eta.length !== cin) throw new Error(`spikeSlabProx: ${eta.length} step sizes for ${cin} channels`);
    const gamma = tf.sigmoid(tf.sub(slab, spike));
    const rate = tf.add(tf.mul(gamma, l1), tf.mul(tf.sub(1, gamma), SPIKE_SLAB_DEFAULTS.spikeRatio * l1));
    const norm = tf.sqrt(sq);
    const threshold = tf.div(tf.mul(rate, tf.div(tf.tensor1d(eta), examples)), tf.sqrt(s2));
    const shrink = tf.div(tf.relu(tf.sub(norm, threshold)), tf.add(norm, 1e-30));
    const after = tf.sqrt(tf.sum(tf.mul(sq, tf.square(shrink))));
    const factor = tf.mul(shrink, tf.div(tf.sqrt(tf.sum(sq)), tf.add(after, 1e-30)));
    kernel.assign(tf.mul(kernel, tf.reshape(factor, [1, 1, cin, 1])));
  });
}

/**
 * Adam on the loss (which must not contain the spike-and-slab term), followed after every step by
 * {@link spikeSlabProx} on the input kernel with η_c = lr / (√v̂_c + ε) (ProxGen; see the file comment).
 */
export class SpikeSlabProximalAdam extends tf.Optimizer {
  static className = 'EpistemeSpikeSlabProximalAdam';
  private readonly adam: tf.AdamOptimizer;
  private readonly beta2 = 0.999;
  private readonly epsilon = 1e-7;
  private readonly v: number[];
  private steps = 0;

  constructor(
    private readonly kernel: tf.Variable,
    private readonly learningRate: number,
    private readonly examples: number,
  ) {
    super();
    if (!(examples >= 1)) throw new Error(`SpikeSlabProximalAdam: examples must be ≥ 1, got ${examples}`);
    this.adam = tf.train.adam(learningRate, 0.9, this.beta2, this.epsilon);
    this.v = new Array(kernelShape(kernel)[2]).fill(0);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const grads = Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const g = grads.find((x) => x.name === this.kernel.name)?.tensor;
    if (!g) throw new Error(`SpikeSlabProximalAdam: no gradient for the input kernel ${this.kernel.name}`);
    const meanSquare = tf.tidy(() => tf.mean(tf.square(g), [0, 1, 3]).dataSync());
    this.steps++;
    for (let c = 0; c < this.v.length; c++) this.v[c] = this.beta2 * this.v[c] + (1 - this.beta2) * meanSquare[c];
    this.adam.applyGradients(grads);
    const correction = 1 - this.beta2 ** this.steps;
    spikeSlabProx(
      this.kernel,
      this.v.map((v) => this.learningRate / (Math.sqrt(v / correction) + this.epsilon)),
      this.examples,
    );
  }

  override dispose(): void {
    this.adam.dispose();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, examples: this.examples };
  }
}

/** Posterior inclusion probabilities γ_c of the kernel [kh, kw, Cin, Cout] (see the file comment). */
export async function inclusionProbabilities(kernel: tf.Tensor): Promise<SpikeSlabReport> {
  const [kh, kw, cin] = kernelShape(kernel);
  const gamma = tf.tidy(() => {
    const { slab, spike } = logJoint(kernel);
    return tf.sigmoid(tf.sub(slab, spike));
  });
  try {
    return { ...SPIKE_SLAB_DEFAULTS, inputShape: [kh, kw, cin], perChannel: Array.from(await gamma.data()) };
  } finally {
    gamma.dispose();
  }
}
