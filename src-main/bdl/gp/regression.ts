/**
 * `GPRegression`: exact GP regression with the RBF kernel and Gaussian noise,
 *
 *   y = f(x) + ε,  f ~ GP(0, σ_f² exp(−‖x − x'‖²/(2ℓ²))),  ε ~ N(0, σ_n²)
 *
 * (scikit-learn's `GaussianProcessRegressor(ConstantKernel * RBF + WhiteKernel, alpha=0,
 * normalize_y=False)`), Rasmussen & Williams (2006) Alg. 2.1, eqs. 2.25, 2.26, 2.30, 5.9.
 *
 * Hyper-parameters θ = [log σ_f², log ℓ, log σ_n²] (sklearn's `kernel_.theta` order) are fitted by
 * maximising the log marginal likelihood with box-constrained L-BFGS, from the initial values and
 * then from `restarts` log-uniform draws inside the bounds (sklearn's n_restarts_optimizer); the
 * best optimum wins.
 *
 *   const gp = new GPRegression();
 *   gp.fit(X, 2, y);                               // X [N, 2] row-major, y [N]
 *   const { mean, variance } = gp.predict(Xs);     // latent f*; { includeNoise: true } adds σ_n²
 */
import { minimizeLbfgs } from '../linalg/lbfgs.ts';
import { mulberry32 } from '../util/random.ts';
import { exactGpFit, exactGpPredict, rbfLogMarginalLikelihood, type ExactGpState } from './exact.ts';
import { rbfFromSquaredDistances, squaredDistances } from './kernels.ts';

export interface GPHyperparameters {
  /** σ_f² */
  signalVariance: number;
  /** ℓ */
  lengthscale: number;
  /** σ_n² */
  noiseVariance: number;
}

export type GPBounds = { [K in keyof GPHyperparameters]: [number, number] };

/** sklearn's defaults: (1e-5, 1e5) for every hyper-parameter. */
export const DEFAULT_GP_BOUNDS: GPBounds = {
  signalVariance: [1e-5, 1e5],
  lengthscale: [1e-5, 1e5],
  noiseVariance: [1e-5, 1e5],
};

export interface GPFitOptions {
  /** Maximise the marginal likelihood (default true); false keeps the current hyper-parameters. */
  optimize?: boolean;
  /** Extra random restarts after the run from the initial values (default 5). */
  restarts?: number;
  /** Seeds the restarts (default 0). */
  seed?: number;
  bounds?: Partial<GPBounds>;
  /** L-BFGS iterations per restart (default 200). */
  maxIter?: number;
}

export interface GPPrediction {
  /** Posterior mean [M]. */
  mean: Float64Array;
  /** Posterior variance [M] of f* (+ σ_n² with includeNoise). */
  variance: Float64Array;
  /** Full covariance [M, M] when requested. */
  covariance?: Float64Array;
}

const KEYS = ['signalVariance', 'lengthscale', 'noiseVariance'] as const;

export class GPRegression {
  private hyper: GPHyperparameters;
  private x: Float64Array | null = null;
  private y: Float64Array | null = null;
  private d = 0;
  private d2: Float64Array | null = null;
  private state: ExactGpState | null = null;
  /** −LML at each restart's optimum (diagnostics of the last fit). */
  restartValues: number[] = [];

  constructor(initial: Partial<GPHyperparameters> = {}) {
    this.hyper = { signalVariance: 1, lengthscale: 1, noiseVariance: 1e-1, ...initial };
    for (const k of KEYS) {
      if (!(this.hyper[k] > 0 && Number.isFinite(this.hyper[k]))) throw new Error(`GPRegression: ${k} must be > 0, got ${this.hyper[k]}`);
    }
  }

  get hyperparameters(): GPHyperparameters {
    return { ...this.hyper };
  }

  get isFitted(): boolean {
    return this.state !== null;
  }

  /**
   * @param x training inputs [N, D] row-major
   * @param d D
   * @param y targets [N]
   */
  fit(x: ArrayLike<number>, d: number, y: ArrayLike<number>, opts: GPFitOptions = {}): this {
    const n = y.length;
    if (!(Number.isInteger(d) && d >= 1) || x.length !== n * d) throw new Error(`GPRegression.fit: X must be [${n}, ${d}], got ${x.length} values`);
    if (n === 0) throw new Error('GPRegression.fit: no training points');
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error('GPRegression.fit: X has non-finite values');
    for (let i = 0; i < n; i++) if (!Number.isFinite(y[i])) throw new Error('GPRegression.fit: y has non-finite values');
    this.x = Float64Array.from(x);
    this.y = Float64Array.from(y);
    this.d = d;
    this.d2 = squaredDistances(this.x, n, this.x, n, d);
    if (opts.optimize ?? true) this.optimize(opts);
    this.refit();
    return this;
  }

  /** log p(y | X, θ) (R&W eq. 2.30) at the given (default: current) hyper-parameters. */
  logMarginalLikelihood(h: Partial<GPHyperparameters> = {}): number {
    return this.lmlAndGradient({ ...this.hyper, ...h }, false).value;
  }

  /** ∂ log p(y | X, θ) / ∂[log σ_f², log ℓ, log σ_n²] (R&W eq. 5.9). */
  logMarginalLikelihoodGradient(h: Partial<GPHyperparameters> = {}): Float64Array {
    return this.lmlAndGradient({ ...this.hyper, ...h }, true).gradient;
  }

  /**
   * Posterior at test inputs xs [M, D] (eqs. 2.25–2.26).
   * @param opts.includeNoise add σ_n² to the variance (the predictive of y*, as sklearn's std)
   * @param opts.fullCovariance also return the [M, M] covariance
   */
  predict(xs: ArrayLike<number>, opts: { includeNoise?: boolean; fullCovariance?: boolean } = {}): GPPrediction {
    if (!this.state || !this.x) throw new Error('GPRegression.predict: call fit first');
    const d = this.d;
    if (xs.length % d !== 0) throw new Error(`GPRegression.predict: X* length ${xs.length} is not a multiple of D = ${d}`);
    const m = xs.length / d;
    const n = this.state.n;
    const p = { signalVariance: this.hyper.signalVariance, lengthscale: this.hyper.lengthscale };
    const kstar = rbfFromSquaredDistances(squaredDistances(xs, m, this.x, n, d), p);
    const kssDiag = new Float64Array(m).fill(p.signalVariance);
    const kss = opts.fullCovariance ? rbfFromSquaredDistances(squaredDistances(xs, m, xs, m, d), p) : undefined;
    const r = exactGpPredict(this.state, kstar, m, kssDiag, kss);
    if (opts.includeNoise) {
      for (let i = 0; i < m; i++) r.variance[i] += this.hyper.noiseVariance;
      if (r.covariance) for (let i = 0; i < m; i++) r.covariance[i * m + i] += this.hyper.noiseVariance;
    }
    return r;
  }

  private lmlAndGradient(h: GPHyperparameters, gradient: boolean) {
    if (!this.d2 || !this.y) throw new Error('GPRegression: call fit first');
    return rbfLogMarginalLikelihood(this.d2, this.y.length, [{ y: this.y, noise: h.noiseVariance }], h, { gradient, learnNoise: true });
  }

  private refit(): void {
    const n = this.y!.length;
    const k = rbfFromSquaredDistances(this.d2!, this.hyper);
    this.state = exactGpFit(k, n, this.y!, this.hyper.noiseVariance);
  }

  private optimize(opts: GPFitOptions): void {
    const bounds = { ...DEFAULT_GP_BOUNDS, ...(opts.bounds ?? {}) };
    const lower = KEYS.map((k) => Math.log(bounds[k][0]));
    const upper = KEYS.map((k) => Math.log(bounds[k][1]));
    for (let i = 0; i < 3; i++) if (!(lower[i] < upper[i])) throw new Error(`GPRegression: bad bounds for ${KEYS[i]}`);
    const toHyper = (t: ArrayLike<number>): GPHyperparameters => ({
      signalVariance: Math.exp(t[0]),
      lengthscale: Math.exp(t[1]),
      noiseVariance: Math.exp(t[2]),
    });
    const objective = (t: Float64Array) => {
      try {
        const r = this.lmlAndGradient(toHyper(t), true);
        return { value: -r.value, gradient: r.gradient.map((g) => -g) };
      } catch {
        return { value: Infinity, gradient: [0, 0, 0] };
      }
    };
    const rand = mulberry32(opts.seed ?? 0);
    const starts: number[][] = [KEYS.map((k, i) => Math.min(upper[i], Math.max(lower[i], Math.log(this.hyper[k]))))];
    const restarts = opts.restarts ?? 5;
    for (let r = 0; r < restarts; r++) starts.push(lower.map((lo, i) => lo + rand() * (upper[i] - lo)));
    let best: { x: Float64Array; f: number } | null = null;
    this.restartValues = [];
    for (const s of starts) {
      if (!Number.isFinite(objective(Float64Array.from(s)).value)) continue;
      const r = minimizeLbfgs(objective, s, { lower, upper, maxIter: opts.maxIter ?? 200, gtol: 1e-9, ftol: 1e-14 });
      this.restartValues.push(r.f);
      if (!best || r.f < best.f) best = { x: r.x, f: r.f };
    }
    if (!best) throw new Error('GPRegression: the marginal likelihood could not be evaluated at any starting point');
    this.hyper = toHyper(best.x);
  }
}
