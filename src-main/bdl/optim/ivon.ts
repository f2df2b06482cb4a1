/**
 * IVON — Improved Variational Online Newton (Shen, Daheim, Cong, Nickl, Marconi, Bazan, Yokota,
 * Gurevych, Cremers, Khan & Möllenhoff, "Variational Learning is Effective for Large Deep Networks",
 * ICML 2024, Algorithm 1), as a `tf.Optimizer`.
 *
 * It learns a mean-field Gaussian q(θ) = N(m, diag σ²) over the weights, σ = 1/√(λ(h + δ)):
 *
 *   θ  ← m + σ ⊙ ε,  ε ~ N(0, I)                       sample (the network's variables hold θ)
 *   ĝ  ← ∇ℓ(θ)                                         ℓ = mean NLL of the minibatch (no prior)
 *   ĥ  ← ĝ ⊙ (θ − m) / σ²                              reparameterisation-trick Hessian estimate
 *   g  ← β₁ g + (1 − β₁) ĝ
 *   h  ← β₂ h + (1 − β₂) ĥ + ½ (1 − β₂)² (h − ĥ)² / (h + δ)   (Riemannian step: keeps h + δ > 0)
 *   ḡ  ← g / (1 − β₁ᵗ)
 *   m  ← m − α_t (ḡ + δ m) / (h + δ)
 *
 * λ is the effective sample size (N, the training-set size), δ the weight decay (prior precision
 * λδ, i.e. p(θ) = N(0, I/(λδ))), α_t the learning rate. As in the authors' implementation
 * (team-approx-bayes/ivon, `rescale_lr`), α is rescaled by (h₀ + δ) so that the first step is an SGD
 * step of size α ("Optional: α_t ← (h₀ + δ) α_t" in Algorithm 1), and the update can be clipped
 * elementwise (`clipRadius`, default off).
 *
 * Between steps the variables hold the mean m (so the network predicts with "IVON@mean"); inside
 * `minimize` they briefly hold the sample θ for the gradient, then m again.
 */
import * as tf from '@tensorflow/tfjs';
import { standardNormal, toVariable } from '../layers/meanField.ts';
import { deriveSeed, DEFAULT_SEED } from '../util/random.ts';

export interface IvonConfig {
  /** α before the (h₀ + δ) rescaling; the paper uses 0.1–0.5 for ResNets. */
  learningRate: number;
  /** λ, the effective sample size (normally N, the number of training examples). */
  ess: number;
  /** δ > 0; λδ is the prior precision. */
  weightDecay: number;
  /** h₀ (default 0.1). Initial σ = 1/√(λ(h₀ + δ)). */
  hessInit?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.99999 (Shen et al.: β₂ must be close to 1). */
  beta2?: number;
  /** α ← (h₀ + δ) α (default true, as the authors' code). */
  rescaleLr?: boolean;
  /** Elementwise clip of (ḡ + δm)/(h + δ) (default Infinity = off). */
  clipRadius?: number;
  /** Multiplier of α at step t = 1, 2, … (e.g. cosine decay); default constant 1. */
  lrSchedule?: (t: number) => number;
  /** Seeds the weight noise ε (default 42). */
  seed?: number;
}

/** Options' defaults (Shen et al. 2024, §3 and App. A; see the 'ivon' posterior for the choices). */
export const IVON_DEFAULTS = { hessInit: 0.1, beta1: 0.9, beta2: 0.99999, clipRadius: Infinity } as const;

/** σ = 1/√(λ(h + δ)) for a Hessian estimate h (inside tidy). */
export function ivonSigma(hess: tf.Tensor, ess: number, weightDecay: number): tf.Tensor {
  return tf.tidy(() => tf.rsqrt(tf.mul(ess, tf.add(hess, weightDecay))));
}

export class IVON extends tf.Optimizer {
  static className = 'EpistemeIVON';
  readonly learningRate: number;
  readonly ess: number;
  readonly weightDecay: number;
  readonly hessInit: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly rescaleLr: boolean;
  readonly clipRadius: number;
  private readonly lrSchedule: (t: number) => number;
  private readonly seed: number;
  private hess: tf.Variable[] | null;
  private readonly ownsHess: boolean;
  private momentum: tf.Variable[] | null = null;
  private t = 0;

  /**
   * @param hess optional Hessian state, one variable per optimised variable (same shapes), owned by
   *   the caller: IVON updates it in place and does not dispose it (so the posterior can keep it).
   *   Without it IVON creates its own, filled with h₀, on the first step.
   */
  constructor(config: IvonConfig, hess?: tf.Variable[]) {
    super();
    const c = { ...IVON_DEFAULTS, rescaleLr: true, ...config };
    if (!(c.learningRate > 0)) throw new Error(`IVON: learningRate must be > 0, got ${c.learningRate}`);
    if (!(c.ess > 0)) throw new Error(`IVON: ess (λ) must be > 0, got ${c.ess}`);
    if (!(c.weightDecay > 0)) throw new Error(`IVON: weightDecay (δ) must be > 0 (it is the prior), got ${c.weightDecay}`);
    if (!(c.hessInit > 0)) throw new Error(`IVON: hessInit must be > 0, got ${c.hessInit}`);
    if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new Error(`IVON: beta1 must be in [0, 1), got ${c.beta1}`);
    if (!(c.beta2 > 0 && c.beta2 < 1)) throw new Error(`IVON: beta2 must be in (0, 1), got ${c.beta2}`);
    if (!(c.clipRadius > 0)) throw new Error(`IVON: clipRadius must be > 0, got ${c.clipRadius}`);
    this.learningRate = c.learningRate;
    this.ess = c.ess;
    this.weightDecay = c.weightDecay;
    this.hessInit = c.hessInit;
    this.beta1 = c.beta1;
    this.beta2 = c.beta2;
    this.rescaleLr = c.rescaleLr;
    this.clipRadius = c.clipRadius;
    this.lrSchedule = config.lrSchedule ?? (() => 1);
    this.seed = config.seed ?? DEFAULT_SEED;
    this.hess = hess ?? null;
    this.ownsHess = hess === undefined;
  }

  /** Steps taken. */
  get step(): number {
    return this.t;
  }

  /** The Hessian estimates h (live variables; null before the first step without external state). */
  get hessian(): readonly tf.Variable[] | null {
    return this.hess;
  }

  private init(vars: tf.Variable[]): void {
    if (!this.hess) this.hess = vars.map((v) => toVariable(tf.fill(v.shape, this.hessInit), false));
    if (this.hess.length !== vars.length || this.hess.some((h, i) => !tf.util.arraysEqual(h.shape, vars[i].shape))) {
      throw new Error('IVON: the Hessian state does not match the variables being optimised');
    }
    this.momentum ??= vars.map((v) => toVariable(tf.zerosLike(v), false));
  }

  /**
   * One IVON step on the scalar loss `f` (the mean NLL of a minibatch, WITHOUT the prior: δ is the
   * prior). Samples θ ~ q into `varList`, takes ∇f(θ), restores m and updates (m, h, g).
   */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    if (!varList || varList.length === 0) throw new Error('IVON.minimize needs the list of variables');
    this.init(varList);
    const hess = this.hess!;
    const mom = this.momentum!;
    this.t++;
    const t = this.t;
    const means = varList.map((v) => v.clone());
    // noise = θ − m = σ ⊙ ε
    const noise = varList.map((v, i) =>
      tf.tidy(() => tf.mul(ivonSigma(hess[i], this.ess, this.weightDecay), standardNormal(v.shape, deriveSeed(deriveSeed(this.seed, t), i)))),
    );
    let value: tf.Scalar | null = null;
    let grads: tf.NamedTensorMap | null = null;
    try {
      try {
        varList.forEach((v, i) => tf.tidy(() => v.assign(tf.add(means[i], noise[i]))));
        ({ value, grads } = this.computeGradients(f, varList));
      } finally {
        varList.forEach((v, i) => v.assign(means[i])); // back to m, also when f throws
      }
      const b1 = this.beta1;
      const b2 = this.beta2;
      const d = this.weightDecay;
      const alpha = this.learningRate * this.lrSchedule(t) * (this.rescaleLr ? this.hessInit + d : 1);
      const debias = 1 - Math.pow(b1, t);
      varList.forEach((v, i) => {
        const g = grads![v.name];
        if (!g) throw new Error(`IVON: no gradient for variable ${v.name}`);
        tf.tidy(() => {
          const h = hess[i];
          // ĥ = ĝ ⊙ (θ − m)/σ² = ĝ ⊙ noise · λ(h + δ)
          const hHat = tf.mul(tf.mul(g, noise[i]), tf.mul(this.ess, tf.add(h, d)));
          const gNew = tf.add(tf.mul(b1, mom[i]), tf.mul(1 - b1, g));
          const diff = tf.sub(h, hHat);
          const hNew = tf.add(
            tf.add(tf.mul(b2, h), tf.mul(1 - b2, hHat)),
            tf.div(tf.mul(0.5 * (1 - b2) * (1 - b2), tf.square(diff)), tf.add(h, d)),
          );
          let step = tf.div(tf.add(tf.div(gNew, debias), tf.mul(d, means[i])), tf.add(hNew, d));
          if (Number.isFinite(this.clipRadius)) step = tf.clipByValue(step, -this.clipRadius, this.clipRadius);
          mom[i].assign(gNew);
          h.assign(hNew);
          v.assign(tf.sub(means[i], tf.mul(alpha, step)));
        });
      });
    } catch (e) {
      value?.dispose();
      throw e;
    } finally {
      tf.dispose(means);
      tf.dispose(noise);
      if (grads) tf.dispose(grads);
    }
    this.incrementIterations();
    if (returnCost) return value;
    value?.dispose();
    return null;
  }

  /** IVON samples the weights before the gradient, so it steps through {@link minimize} only. */
  override applyGradients(): void {
    throw new Error('IVON: use minimize(f, returnCost, varList) — the gradient must be taken at a weight sample');
  }

  override dispose(): void {
    super.dispose();
    if (this.momentum) tf.dispose(this.momentum);
    this.momentum = null;
    if (this.ownsHess && this.hess) tf.dispose(this.hess);
    if (this.ownsHess) this.hess = null;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      ess: this.ess,
      weightDecay: this.weightDecay,
      hessInit: this.hessInit,
      beta1: this.beta1,
      beta2: this.beta2,
      rescaleLr: this.rescaleLr,
      clipRadius: this.clipRadius,
      seed: this.seed,
    };
  }
}
