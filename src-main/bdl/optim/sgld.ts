/**
 * Stochastic gradient Langevin dynamics (Welling & Teh, "Bayesian Learning via Stochastic Gradient
 * Langevin Dynamics", ICML 2011, eq. 4 / Algorithm 1 of the lecture):
 *
 *   θ_{t+1} = θ_t − (h_t / 2) ∇Û(θ_t) + η_t,   η_t ~ N(0, h_t · T),
 *   Û(θ) = −log p(θ) − (N/n) Σ_{i ∈ batch} log p(y_i | x_i, θ)      (unbiased for U = −log p(θ, D)),
 *
 * with the polynomially decaying step size h_t = a (b + t)^(−γ), γ ∈ (0.5, 1] (Σh = ∞, Σh² < ∞;
 * Welling & Teh §3), a burn-in, then one sample kept every `thin` steps until the bank is full.
 * T = 1 is the posterior; T < 1 a "cold" posterior (Wenzel et al., ICML 2020), off by default.
 *
 * - {@link sgldSample}: the sampler on a plain energy gradient (Float64Array state), used by tests on
 *   known targets;
 * - {@link SGLD}: the same dynamics as a `tf.Optimizer` for networks (`minimize` of a mean loss L
 *   with Û = N·L), used by the 'sgld' posterior;
 * - {@link SgldPlan}: their shared bookkeeping (schedule, burn-in, thinning);
 * - {@link effectiveSampleSize}: Geyer's initial-monotone-sequence ESS of a chain.
 */
import * as tf from '@tensorflow/tfjs';
import { standardNormal } from '../layers/meanField.ts';
import { DEFAULT_SEED, deriveSeed, mulberry32 } from '../util/random.ts';

/** h_t = a (b + t)^(−γ), t = 0, 1, … (Welling & Teh 2011, §3). */
export interface PolynomialSchedule {
  a: number;
  b: number;
  gamma: number;
}

export function polynomialStepSize(s: PolynomialSchedule, t: number): number {
  return s.a * Math.pow(s.b + t, -s.gamma);
}

/** The schedule with h_0 = h0 and h_t = h0 (1 + t/b)^(−γ). */
export function polynomialFromInitial(h0: number, b: number, gamma = 0.55): PolynomialSchedule {
  if (!(h0 > 0 && b > 0)) throw new Error(`polynomialFromInitial: h0 and b must be > 0 (got ${h0}, ${b})`);
  return { a: h0 * Math.pow(b, gamma), b, gamma };
}

export interface SgldPlanOptions {
  schedule: PolynomialSchedule;
  /** Steps before the first kept sample. */
  burnIn: number;
  /** Keep one sample every `thin` steps after burn-in (≥ 1). */
  thin: number;
  /** Bank size: samples kept. The chain runs burnIn + thin · samples steps. */
  samples: number;
  /** T (default 1). */
  temperature?: number;
}

/** Step sizes and which steps are kept. Step t = 0, 1, …; the state after step t is kept iff keep(t). */
export class SgldPlan {
  readonly schedule: PolynomialSchedule;
  readonly burnIn: number;
  readonly thin: number;
  readonly samples: number;
  readonly temperature: number;

  constructor(o: SgldPlanOptions) {
    const { a, b, gamma } = o.schedule;
    if (!(a > 0 && b >= 0 && gamma >= 0 && a * Math.pow(Math.max(b, 1e-300), -gamma) < Infinity)) {
      throw new Error(`SGLD: invalid schedule a=${a}, b=${b}, γ=${gamma}`);
    }
    if (!(Number.isInteger(o.burnIn) && o.burnIn >= 0)) throw new Error(`SGLD: burnIn must be an integer ≥ 0, got ${o.burnIn}`);
    if (!(Number.isInteger(o.thin) && o.thin >= 1)) throw new Error(`SGLD: thin must be an integer ≥ 1, got ${o.thin}`);
    if (!(Number.isInteger(o.samples) && o.samples >= 1)) throw new Error(`SGLD: samples must be an integer ≥ 1, got ${o.samples}`);
    const T = o.temperature ?? 1;
    if (!(T > 0)) throw new Error(`SGLD: temperature must be > 0, got ${T}`);
    this.schedule = o.schedule;
    this.burnIn = o.burnIn;
    this.thin = o.thin;
    this.samples = o.samples;
    this.temperature = T;
  }

  /** Total steps: burn-in + thin · samples. */
  get steps(): number {
    return this.burnIn + this.thin * this.samples;
  }

  stepSize(t: number): number {
    return polynomialStepSize(this.schedule, t);
  }

  /** Whether the state after step t is a bank sample (and which one), else −1. */
  sampleIndex(t: number): number {
    const k = t + 1 - this.burnIn;
    if (k <= 0 || k % this.thin !== 0) return -1;
    const i = k / this.thin - 1;
    return i < this.samples ? i : -1;
  }
}

/** Standard normal draws from a uniform generator (Box & Muller 1958), two at a time. */
export function gaussianSource(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const a = 2 * Math.PI * rand();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

export interface SgldResult {
  /** Bank [samples, d], row-major. */
  samples: Float64Array;
  /** d, the dimension. */
  dim: number;
  /** Step size h_t at which each kept sample was produced. */
  stepSizes: Float64Array;
  steps: number;
}

/**
 * SGLD on an energy U(θ) = −log π(θ) + const given by its (possibly stochastic) gradient.
 *
 * @param gradU (θ [d], t) → ∇Û(θ) [d]; may be noisy (a minibatch estimate). Must not keep θ.
 * @param theta0 start [d]
 */
export function sgldSample(
  gradU: (theta: Float64Array, t: number) => ArrayLike<number>,
  theta0: ArrayLike<number>,
  plan: SgldPlan | SgldPlanOptions,
  seed = DEFAULT_SEED,
): SgldResult {
  const p = plan instanceof SgldPlan ? plan : new SgldPlan(plan);
  const d = theta0.length;
  const theta = Float64Array.from(theta0);
  const normal = gaussianSource(mulberry32(seed));
  const samples = new Float64Array(p.samples * d);
  const stepSizes = new Float64Array(p.samples);
  const steps = p.steps;
  for (let t = 0; t < steps; t++) {
    const h = p.stepSize(t);
    const g = gradU(theta, t);
    if (g.length !== d) throw new Error(`sgldSample: gradU returned ${g.length} values for dimension ${d}`);
    const sd = Math.sqrt(h * p.temperature);
    for (let j = 0; j < d; j++) theta[j] += -0.5 * h * g[j] + sd * normal();
    const i = p.sampleIndex(t);
    if (i >= 0) {
      samples.set(theta, i * d);
      stepSizes[i] = h;
    }
  }
  for (let j = 0; j < d; j++) if (!Number.isFinite(theta[j])) throw new Error('sgldSample: the chain diverged (step size too large?)');
  return { samples, dim: d, stepSizes, steps };
}

/**
 * Effective sample size of a scalar chain by Geyer's initial monotone sequence estimator (Geyer,
 * "Practical Markov chain Monte Carlo", Statistical Science 1992, §3.3):
 * ESS = n / (1 + 2 Σ_k ρ_k), the autocorrelations summed in pairs Γ_m = ρ_{2m} + ρ_{2m+1} while
 * positive, made monotone non-increasing; at most n (an uncorrelated chain).
 */
export function effectiveSampleSize(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 4) return n;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = x[i] - mean;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += c[i] * c[i];
  c0 /= n;
  if (c0 === 0) return n;
  const rho = (k: number): number => {
    let s = 0;
    for (let i = 0; i + k < n; i++) s += c[i] * c[i + k];
    return s / n / c0;
  };
  // Γ_0 = ρ_0 + ρ_1, Γ_1 = ρ_2 + ρ_3, … ; τ = −1 + 2 Σ Γ_m (Geyer 1992, eq. 3.3 with ρ_0 = 1)
  let sum = 0;
  let prev = Infinity;
  for (let m = 0; 2 * m + 1 < n; m++) {
    let g = rho(2 * m) + rho(2 * m + 1);
    if (g <= 0) break;
    if (g > prev) g = prev; // monotone
    sum += g;
    prev = g;
  }
  const tau = Math.max(-1 + 2 * sum, 1 / n);
  return Math.min(n, n / tau);
}

export interface SgldOptimizerConfig {
  plan: SgldPlan;
  /** N, the training-set size: ∇Û = N · ∇(mean loss) (the loss must include −log p(θ)/N). */
  examples: number;
  /**
   * Variables that move only during burn-in (then stay fixed), by name — e.g. everything but the
   * last layer for subsetOfWeights 'last-layer'. Default none.
   */
  frozenAfterBurnIn?: ReadonlySet<string>;
  /** Called with the step index after each step whose state is a bank sample. */
  onSample?(index: number, step: number): void;
  seed?: number;
}

/**
 * SGLD as a `tf.Optimizer`: `minimize(L)` with L = mean NLL of a minibatch + (−log p(θ))/N takes one
 * Langevin step θ ← θ − (h_t/2)·N·∇L + N(0, h_t·T) (so Û = N·L as in Welling & Teh eq. 4). The
 * step size h_t and the kept samples follow the plan; `onSample` lets the caller copy the bank.
 */
export class SGLD extends tf.Optimizer {
  static className = 'EpistemeSGLD';
  readonly plan: SgldPlan;
  readonly examples: number;
  private readonly frozen: ReadonlySet<string>;
  private readonly onSample?: (index: number, step: number) => void;
  private readonly seed: number;
  private t = 0;

  constructor(config: SgldOptimizerConfig) {
    super();
    if (!(config.examples >= 1)) throw new Error(`SGLD: examples (N) must be ≥ 1, got ${config.examples}`);
    this.plan = config.plan;
    this.examples = config.examples;
    this.frozen = config.frozenAfterBurnIn ?? new Set();
    this.onSample = config.onSample;
    this.seed = config.seed ?? DEFAULT_SEED;
  }

  /** Steps taken. */
  get step(): number {
    return this.t;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const t = this.t;
    const h = this.plan.stepSize(t);
    const sd = Math.sqrt(h * this.plan.temperature);
    const sampling = t >= this.plan.burnIn;
    list.forEach(({ name, tensor: g }, i) => {
      if (g == null) return;
      if (sampling && this.frozen.has(name)) return;
      const v = tf.engine().registeredVariables[name];
      if (!v) throw new Error(`SGLD: unknown variable ${name}`);
      tf.tidy(() => {
        const noise = tf.mul(sd, standardNormal(v.shape, deriveSeed(deriveSeed(this.seed, t), i)));
        v.assign(tf.add(tf.sub(v, tf.mul(0.5 * h * this.examples, g)), noise));
      });
    });
    this.t++;
    this.incrementIterations();
    const k = this.plan.sampleIndex(t);
    if (k >= 0) this.onSample?.(k, t);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { examples: this.examples, burnIn: this.plan.burnIn, thin: this.plan.thin, samples: this.plan.samples, temperature: this.plan.temperature, seed: this.seed };
  }
}
