/**
 * Spike-and-slab prior on the input layer (the first convolution) of the Gal CNN, with one inclusion
 * probability per input unit.
 *
 * Input units. A convolution is a dense layer applied to every image patch (im2col): its kernel
 * [kh, kw, Cin, Cout] is the matrix W [J = kh·kw·Cin, Cout] from the J entries of a patch — kernel
 * tap (i, k) of channel c, row j = (i·kw + k)·Cin + c — to the Cout filters. Row w_j is everything
 * the network reads from that input unit, so the prior includes or excludes whole rows (grouped
 * variable selection), with a latent z_j ∈ {0, 1} per row: p(z_j = 1) = π and
 *
 *   u_j | z_j = 1 ~ Ψ(λ₁) (slab),   u_j | z_j = 0 ~ Ψ(λ₀) (spike),   Ψ(u | λ) ∝ λ^d exp(−λ‖u‖₂),
 *
 * the spike-and-slab group lasso of Bai, Moran, Antonelli, Chen & Boland (2020, JASA, "Spike-and-slab
 * group lassos for grouped regression and sparse generalized additive models"), d = Cout, λ₀ = c·λ₁.
 * Marginalising z_j gives the mixture p(u_j) = π Ψ(u_j | λ₁) + (1 − π) Ψ(u_j | λ₀), whose −log is the
 * MAP penalty (its gradient is an adaptive group-lasso pull (γ_j λ₁ + (1 − γ_j) λ₀)·u_j/‖u_j‖); the
 * posterior inclusion probability of unit j given the fitted weights is
 *
 *   γ_j = p(z_j = 1 | u_j) = π Ψ(u_j | λ₁) / (π Ψ(u_j | λ₁) + (1 − π) Ψ(u_j | λ₀)).
 *
 * Reported per unit (per tap and channel) and averaged per input channel (which of R, G, B the network
 * reads; for grey images the per-tap map says which offsets of the 4×4 receptive field it uses).
 *
 * Scale. The input layer's scale is not identified: ReLU networks are positively homogeneous, so
 * dividing conv1 by a and multiplying conv2 by a gives the same function, nearly free under the vague
 * Gaussian prior of the other layers (weight decay 1e-4). With a prior on w_j itself the MAP is every
 * row in the spike (measured with two fixed Gaussians: all γ_j → 0, accuracy unchanged), and a slab
 * re-estimated by EM (as EMVS, Ročková & George 2014) shrinks with the layer (σ₁ → 1e-4 in 120 steps).
 * So the prior is put on what is identified, the kernel's shape: u_j = w_j / s with s² = Σ_j ‖w_j‖² /
 * (J·d) the layer's mean square. λ₁ = √d makes the slab's mean norm d/λ₁ = √d that of a row of typical
 * size; c = SPIKE_SLAB_DEFAULTS.spikeRatio; π = ½. The penalty is invariant to rescaling the layer (its
 * gradient is orthogonal to w: it moves weight between rows and never shrinks the layer as a whole);
 * γ_j = ½ at ‖u_j‖ = √d · ln c / (c − 1) (0.26 √d for c = 10).
 *
 * Caveat (measured, MAP by Adam, 30–60 epochs of 200 28×28×3 images, bars in channel 0, channels 1
 * and 2 label-independent noise): the fit IS sparse (γ_j ends at 0 or 1; 18–25 of 48 units kept),
 * but which units survive was the same for every variant of the data and followed the
 * initialisation, not the signal (per-channel γ 0.38–0.56 for the informative channel, 0.31–0.50 for
 * noise). The prior's pull (≈ λ₁ / (N·s·√d) per weight) dominates the small NLL gradients of conv1
 * once the training data are fitted, and Adam normalises per weight. Treat γ as descriptive until the
 * optimisation (e.g. a proximal step for the prior) is revisited. Other layers keep the Gaussian prior.
 */
import * as tf from '@tensorflow/tfjs';

export const SPIKE_SLAB_DEFAULTS = { inclusion: 0.5, spikeRatio: 10 } as const;

export interface SpikeSlabReport {
  /** π, the prior inclusion probability of every input unit. */
  inclusion: number;
  /** c = λ₀ / λ₁, spike over slab rate (on the scale-normalised rows). */
  spikeRatio: number;
  /** [kh, kw, Cin] of the first convolution's kernel. */
  inputShape: [number, number, number];
  /** γ_j for the J = kh·kw·Cin input units, j = (i·kw + k)·Cin + c. */
  perInput: number[];
  /** Mean γ over the kh·kw taps of each input channel [Cin]. */
  perChannel: number[];
}

/** The first convolution's kernel variable [kh, kw, Cin, Cout] (the input layer). */
export function inputKernel(net: { model: tf.LayersModel }): tf.Variable {
  const kernel = net.model.getLayer('conv1').trainableWeights.find((w) => w.name.endsWith('kernel'));
  if (!kernel) throw new Error('spike-slab: the network has no conv1 kernel');
  return kernel.read() as tf.Variable;
}

function kernelShape(kernel: tf.Tensor): [number, number, number, number] {
  if (kernel.rank !== 4) throw new Error(`spike-slab: expected a conv kernel [kh, kw, Cin, Cout], got shape [${kernel.shape.join(', ')}]`);
  return kernel.shape as [number, number, number, number];
}

/**
 * log π Ψ(u_j | λ₁) and log (1 − π) Ψ(u_j | λ₀) per row [J] for the kernel [kh, kw, Cin, Cout] (without
 * the normalising constant common to both), and the same at u = 0. Call inside tidy.
 */
function logJoint(kernel: tf.Tensor): { slab: tf.Tensor1D; spike: tf.Tensor1D; atZero: number } {
  const [kh, kw, cin, d] = kernelShape(kernel);
  const sq = tf.sum(tf.square(tf.reshape(kernel, [kh * kw * cin, d])), 1);
  // ‖u_j‖ = ‖w_j‖ / s, s² = mean_j ‖w_j‖² / d; the epsilons keep the gradient finite at 0.
  const norm = tf.sqrt(tf.add(tf.div(sq, tf.add(tf.div(tf.mean(sq), d), 1e-30)), 1e-12));
  const { inclusion: pi, spikeRatio: c } = SPIKE_SLAB_DEFAULTS;
  const l1 = Math.sqrt(d);
  const slab0 = Math.log(pi) + d * Math.log(l1);
  const spike0 = Math.log(1 - pi) + d * Math.log(c * l1);
  return {
    slab: tf.sub(slab0, tf.mul(norm, l1)) as tf.Tensor1D,
    spike: tf.sub(spike0, tf.mul(norm, c * l1)) as tf.Tensor1D,
    atZero: Math.max(slab0, spike0) + Math.log1p(Math.exp(-Math.abs(slab0 - spike0))),
  };
}

/**
 * −Σ_j log p(u_j) + J·log p(0) for the kernel [kh, kw, Cin, Cout]: the negative log prior of its
 * scale-normalised rows up to a constant, shifted to be ≥ 0 (the spike's large density would otherwise
 * make the reported loss negative). Call inside tidy.
 */
export function spikeSlabPenalty(kernel: tf.Tensor): tf.Scalar {
  const { slab, spike, atZero } = logJoint(kernel);
  return tf.sub(atZero * slab.shape[0], tf.sum(tf.logSumExp(tf.stack([slab, spike]), 0))) as tf.Scalar;
}

/** Posterior inclusion probabilities γ_j of the kernel [kh, kw, Cin, Cout] (see the file comment). */
export async function inclusionProbabilities(kernel: tf.Tensor): Promise<SpikeSlabReport> {
  const [kh, kw, cin] = kernelShape(kernel);
  const gamma = tf.tidy(() => {
    const { slab, spike } = logJoint(kernel);
    return tf.sigmoid(tf.sub(slab, spike));
  });
  let perInput: number[];
  try {
    perInput = Array.from(await gamma.data());
  } finally {
    gamma.dispose();
  }
  const perChannel = Array.from({ length: cin }, (_, c) => {
    let sum = 0;
    for (let t = 0; t < kh * kw; t++) sum += perInput[t * cin + c];
    return sum / (kh * kw);
  });
  return { ...SPIKE_SLAB_DEFAULTS, inputShape: [kh, kw, cin], perInput, perChannel };
}
