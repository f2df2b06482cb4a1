/**
 * Mean-field Gaussian weights q(w) = Π_i N(w_i; μ_i, σ_i²): seeded Gaussian noise, the
 * reparameterisation w = μ + σ ⊙ ε, the closed-form KL to an isotropic Gaussian prior, and the
 * local reparameterisation of a dense layer. Shared by 'vi' (Blundell et al. 2015) and 'ivon'
 * (Shen et al. 2024), whose posteriors are both of this form.
 *
 * Every function returns new tensors and leaks nothing (tf.tidy inside); the caller disposes.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32 } from '../util/random.ts';

/**
 * ε ~ N(0, I) of the given shape, reproducible from `seed` on every backend.
 *
 * (tf.randomNormal draws its numbers in JS one by one, ~300 ms per 500k values here; instead the
 * uniforms come from Mulberry32 in JS and the Box–Muller transform, Box & Muller 1958, runs as
 * tensor ops: z₁ = √(−2 ln u₁)·cos 2πu₂, z₂ = √(−2 ln u₁)·sin 2πu₂.)
 */
export function standardNormal(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const half = Math.ceil(size / 2);
  const u1 = new Float32Array(half);
  const u2 = new Float32Array(half);
  const rand = mulberry32(seed);
  for (let i = 0; i < half; i++) {
    u1[i] = 1 - rand(); // (0, 1]: log stays finite
    u2[i] = rand();
  }
  return tf.tidy(() => {
    const r = tf.sqrt(tf.mul(-2, tf.log(tf.tensor1d(u1))));
    const a = tf.mul(2 * Math.PI, tf.tensor1d(u2));
    const z = tf.concat([tf.mul(r, tf.cos(a)), tf.mul(r, tf.sin(a))]);
    return tf.reshape(size === 2 * half ? z : tf.slice(z, 0, size), shape);
  });
}

/** σ = softplus(ρ) = log(1 + e^ρ) (Blundell et al. 2015, §3.2: keeps σ > 0). */
export function softplusSigma(rho: tf.Tensor): tf.Tensor {
  return tf.softplus(rho);
}

/** ρ = softplus⁻¹(σ) = log(e^σ − 1), to initialise ρ from a σ. */
export function inverseSoftplus(sigma: number): number {
  if (!(sigma > 0)) throw new Error(`inverseSoftplus: σ must be > 0, got ${sigma}`);
  return sigma > 20 ? sigma : Math.log(Math.expm1(sigma));
}

/** One reparameterised draw w = μ + σ ⊙ ε, ε ~ N(0, I) (Kingma & Welling 2014; Blundell et al. 2015, eq. 3). */
export function sampleGaussian(mu: tf.Tensor, sigma: tf.Tensor, seed: number): tf.Tensor {
  return tf.tidy(() => tf.add(mu, tf.mul(sigma, standardNormal(mu.shape, seed))));
}

/**
 * KL(q ‖ p) for q = N(μ, diag σ²) and the prior p = N(0, τ⁻¹ I), summed over all entries
 * (closed form, e.g. Kingma & Welling 2014, App. B):
 *
 *   KL = ½ Σ_i [ τ (σ_i² + μ_i²) − 1 − ln(τ σ_i²) ].
 */
export function gaussianKl(mu: tf.Tensor, sigma: tf.Tensor, tau: number): tf.Scalar {
  if (!(tau > 0)) throw new Error(`gaussianKl: prior precision τ must be > 0, got ${tau}`);
  return tf.tidy(() => {
    const s2 = tf.square(sigma);
    const terms = tf.sub(tf.sub(tf.mul(tau, tf.add(s2, tf.square(mu))), 1), tf.log(tf.mul(tau, s2)));
    return tf.mul(0.5, tf.sum(terms)) as tf.Scalar;
  });
}

/**
 * Dense layer with mean-field Gaussian weights by the local reparameterisation trick (Kingma,
 * Salimans & Welling 2015, eq. 6): for input z the pre-activations are independent Gaussians
 *
 *   a ~ N(z μ_W + μ_b,  z² σ_W² + σ_b²),
 *
 * so `samples` draws of a cost two matrix products instead of `samples` weight draws. Per input row
 * this is exactly the distribution of z W + b with W ~ q; different rows get independent weights.
 *
 * @param z input [B, D]
 * @param muW [D, H], varW [D, H] (σ_W²), muB [H], varB [H] (σ_b²; zeros for a deterministic bias)
 * @returns pre-activations [samples·B, H], sample-major (row s·B + b)
 */
export function denseLocalReparam(
  z: tf.Tensor2D,
  muW: tf.Tensor2D,
  varW: tf.Tensor2D,
  muB: tf.Tensor1D,
  varB: tf.Tensor1D,
  samples: number,
  seed: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b] = z.shape;
    const h = muW.shape[1];
    const mean = tf.add(tf.matMul(z, muW), muB);
    const sd = tf.sqrt(tf.add(tf.matMul(tf.square(z), varW), varB));
    const eps = standardNormal([samples, b, h], seed);
    return tf.reshape(tf.add(tf.expandDims(mean, 0), tf.mul(tf.expandDims(sd, 0), eps)), [samples * b, h]) as tf.Tensor2D;
  });
}

/** A dense layer whose kernel and bias are Gaussian N(mean, var) (var null = deterministic). */
export interface GaussianDense {
  kernel: tf.Tensor;
  bias: tf.Tensor;
  kernelVar: tf.Tensor | null;
  biasVar: tf.Tensor | null;
  relu: boolean;
}

/**
 * z [B, D] through a stack of dense layers with mean-field Gaussian weights → outputs [S·B, C]
 * (sample-major: row s·B + b is sample s of input b).
 *
 * - mode 'local': local reparameterisation ({@link denseLocalReparam}); exact per-input marginals,
 *   independent weights for every (sample, input). Deterministic layers before the first Gaussian
 *   one run once.
 * - mode 'weights': one weight draw w = μ + σ ⊙ ε per sample and layer, shared by all inputs (a
 *   joint draw over the batch; the seed fixes it).
 */
export function gaussianDenseStack(z: tf.Tensor2D, layers: readonly GaussianDense[], samples: number, seed: number, mode: 'local' | 'weights'): tf.Tensor2D {
  return tf.tidy(() => {
    if (mode === 'weights') {
      const outs: tf.Tensor2D[] = [];
      for (let s = 0; s < samples; s++) {
        let a = z;
        layers.forEach((l, i) => {
          const ls = deriveSeedLocal(seed, s, i);
          const w = l.kernelVar ? tf.add(l.kernel, tf.mul(tf.sqrt(l.kernelVar), standardNormal(l.kernel.shape, ls))) : l.kernel;
          const b = l.biasVar ? tf.add(l.bias, tf.mul(tf.sqrt(l.biasVar), standardNormal(l.bias.shape, ls ^ 0x5bd1e995))) : l.bias;
          const pre = tf.add(tf.matMul(a, w as tf.Tensor2D), b) as tf.Tensor2D;
          a = l.relu ? tf.relu(pre) : pre;
        });
        outs.push(a);
      }
      return (samples === 1 ? outs[0] : tf.concat(outs, 0)) as tf.Tensor2D;
    }
    let a = z;
    let expanded = false;
    layers.forEach((l, i) => {
      let pre: tf.Tensor2D;
      if (!l.kernelVar && !l.biasVar) {
        pre = tf.add(tf.matMul(a, l.kernel as tf.Tensor2D), l.bias) as tf.Tensor2D;
      } else {
        const kv = (l.kernelVar ?? tf.zerosLike(l.kernel)) as tf.Tensor2D;
        const bv = (l.biasVar ?? tf.zerosLike(l.bias)) as tf.Tensor1D;
        pre = denseLocalReparam(a, l.kernel as tf.Tensor2D, kv, l.bias as tf.Tensor1D, bv, expanded ? 1 : samples, deriveSeedLocal(seed, 0, i));
        expanded = true;
      }
      a = l.relu ? tf.relu(pre) : pre;
    });
    // No Gaussian layer at all: the deterministic output, repeated.
    return (expanded || samples === 1 ? a : tf.reshape(tf.tile(tf.expandDims(a, 0), [samples, 1, 1]), [samples * z.shape[0], -1])) as tf.Tensor2D;
  });
}

function deriveSeedLocal(seed: number, s: number, layer: number): number {
  return deriveSeed(deriveSeed(seed, 0x1a7e + layer), s);
}

/** A variable holding `init`'s values; disposes `init` (tf.variable alone would keep it alive). */
export function toVariable(init: tf.Tensor, trainable: boolean): tf.Variable {
  try {
    return tf.variable(init, trainable);
  } finally {
    init.dispose();
  }
}
