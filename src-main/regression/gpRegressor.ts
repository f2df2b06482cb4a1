/**
 * The regression model of a project: exact GP regression with the RBF kernel (src-main/bdl/gp,
 * Rasmussen & Williams 2006, Alg. 2.1) on image features (features.ts), targets standardised.
 *
 * Hyper-parameters (σ_f², ℓ, σ_n², in standardised units) maximise the log marginal likelihood
 * (eq. 2.30) by L-BFGS from ℓ = the median pairwise feature distance and from 3 random restarts,
 * within σ_f² ∈ [0.01, 100], ℓ ∈ [0.01, 100]·median, σ_n² ∈ [1e-4, 10]. The search uses at most
 * `HYPER_FIT_POINTS` training images (each evaluation costs O(n³)). The final GP conditions on at most
 * `MAX_GP_POINTS` of them (a seeded random subset above: subset of data, R&W §8.3.1), which bounds
 * memory (three [N, N] float64 arrays, 32 MB each at 2,000) and the O(N³) Cholesky (seconds at 2,000).
 * The saved model keeps α and the Cholesky factor, so loading it costs no refit.
 *
 * predict() returns, in the target's units, the posterior mean (eq. 2.25), the variance of the latent
 * function (eq. 2.26: epistemic, what the queue ranks by) and the predictive variance of a new label
 * (latent + σ_n²).
 */
import { exactGpFit, exactGpPredict, type ExactGpState } from '../bdl/gp/exact.ts';
import { GPRegression, type GPHyperparameters } from '../bdl/gp/regression.ts';
import { rbfFromSquaredDistances, squaredDistances } from '../bdl/gp/kernels.ts';
import { permutation } from '../bdl/util/random.ts';
import type { RegressionMetrics } from '../db/models.ts';
import { fitPca, imageFeatures, PCA_FIT_ROWS, poolFactorFor, poolImages, type PcaBasis } from './features.ts';
import { Z90 } from './interval.ts';

export const HYPER_FIT_POINTS = 400;
/** Most training images the final GP conditions on. */
export const MAX_GP_POINTS = 2000;
const FORMAT = 'episteme-gp-regressor/2';
const PREDICT_CHUNK = 500;

export interface GpRegressorJson {
  format: typeof FORMAT;
  imageSize: number;
  channels: number;
  basis: { poolFactor: number; p: number; k: number; scale: number };
  yMean: number;
  yStd: number;
  /** Standardised units. */
  hyper: GPHyperparameters;
  /** On the `nTrain` points conditioned on. */
  logMarginalLikelihood: number;
  /** Training images the GP conditions on: min(nLabelled, maxPoints). */
  nTrain: number;
  /** Labelled training images given to fit(). */
  nLabelled: number;
}

export interface RegressionPrediction {
  mean: Float64Array;
  latentVariance: Float64Array;
  predictiveVariance: Float64Array;
}

export interface FitInput {
  imageSize: number;
  channels: number;
  /** [N, S, S, C] uint8 and the labels [N]. */
  trainX: Uint8Array;
  trainY: Float64Array;
  /** Further images (unlabelled pool, held-out) whose pixels, not labels, help the feature basis. */
  unlabelledX: Uint8Array[];
  seed: number;
  /** Most training images the final GP conditions on (default MAX_GP_POINTS). */
  maxPoints?: number;
}

export class GpRegressor {
  private constructor(
    readonly json: GpRegressorJson,
    private readonly basis: PcaBasis,
    /** What the GP conditions on: features [N, K]; Cholesky factor of K + σ_n² I [N, N] and α [N] (Alg. 2.1). */
    private readonly trainFeatures: Float64Array,
    private readonly state: ExactGpState,
  ) {}

  static fit(input: FitInput): GpRegressor {
    const { imageSize: side, channels, trainX, trainY, seed } = input;
    const stride = side * side * channels;
    const n = trainY.length;
    if (trainX.length !== n * stride) throw new Error(`GP regression: ${trainX.length} image bytes for ${n} labels, expected ${n} × ${side}×${side}×${channels}`);
    if (n < 3) throw new Error(`GP regression needs at least 3 labelled images (have ${n})`);
    for (const y of trainY) if (!Number.isFinite(y)) throw new Error('GP regression: a label is not a finite number');
    const basis = fitBasis(input, stride);
    const features = imageFeatures(basis, trainX, side, channels);

    const yMean = trainY.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(trainY.reduce((a, b) => a + (b - yMean) ** 2, 0) / n);
    // All labels equal: nothing to standardise by, keep the units.
    const yStd = sd > 1e-12 * Math.max(1, Math.abs(yMean)) ? sd : 1;
    const ys = trainY.map((y) => (y - yMean) / yStd);

    const subset = n > HYPER_FIT_POINTS ? Array.from(permutation(n, seed).slice(0, HYPER_FIT_POINTS)) : Array.from({ length: n }, (_, i) => i);
    const k = basis.k;
    const xSub = new Float64Array(subset.length * k);
    subset.forEach((row, i) => xSub.set(features.subarray(row * k, (row + 1) * k), i * k));
    const ySub = Float64Array.from(subset, (row) => ys[row]);
    const median = medianDistance(xSub, subset.length, k);
    const search = new GPRegression({ signalVariance: 1, lengthscale: median, noiseVariance: 0.1 }).fit(xSub, k, ySub, {
      restarts: 3,
      seed,
      maxIter: 100,
      bounds: { signalVariance: [1e-2, 1e2], lengthscale: [1e-2 * median, 1e2 * median], noiseVariance: [1e-4, 10] },
    });
    const hyper = search.hyperparameters;
    const maxPoints = input.maxPoints ?? MAX_GP_POINTS;
    const rows = n > maxPoints ? Array.from(permutation(n, seed + 2).slice(0, maxPoints)).sort((a, b) => a - b) : null;
    const m = rows?.length ?? n;
    const xGp = rows ? new Float64Array(m * k) : features;
    rows?.forEach((row, i) => xGp.set(features.subarray(row * k, (row + 1) * k), i * k));
    const yGp = rows ? Float64Array.from(rows, (row) => ys[row]) : ys;
    const state = exactGpFit(rbfFromSquaredDistances(squaredDistances(xGp, m, xGp, m, k), hyper), m, yGp, hyper.noiseVariance);
    const json: GpRegressorJson = {
      format: FORMAT,
      imageSize: side,
      channels,
      basis: { poolFactor: basis.poolFactor, p: basis.p, k, scale: basis.scale },
      yMean,
      yStd,
      hyper,
      logMarginalLikelihood: state.logMarginalLikelihood,
      nTrain: m,
      nLabelled: n,
    };
    return new GpRegressor(json, basis, xGp, state);
  }

  /** Predictions for images [M, S, S, C] uint8, in the target's units. */
  predict(x: Uint8Array, onProgress?: (fraction: number) => void): RegressionPrediction {
    const { imageSize: side, channels, yMean, yStd, hyper, basis, nTrain } = this.json;
    const { k } = basis;
    const features = imageFeatures(this.basis, x, side, channels);
    const m = features.length / k;
    const out: RegressionPrediction = { mean: new Float64Array(m), latentVariance: new Float64Array(m), predictiveVariance: new Float64Array(m) };
    for (let from = 0; from < m; from += PREDICT_CHUNK) {
      const to = Math.min(m, from + PREDICT_CHUNK);
      const kstar = rbfFromSquaredDistances(squaredDistances(features.subarray(from * k, to * k), to - from, this.trainFeatures, nTrain, k), hyper);
      const p = exactGpPredict(this.state, kstar, to - from, new Float64Array(to - from).fill(hyper.signalVariance));
      for (let i = 0; i < to - from; i++) {
        out.mean[from + i] = yMean + yStd * p.mean[i];
        out.latentVariance[from + i] = yStd * yStd * p.variance[i];
        out.predictiveVariance[from + i] = yStd * yStd * (p.variance[i] + hyper.noiseVariance);
      }
      onProgress?.(to / m);
    }
    return out;
  }

  /**
   * JSON plus one float64 buffer: basis mean [P], components [K, P], training features [N, K], α [N]
   * and the lower triangle of the Cholesky factor, row by row [N(N + 1)/2] (16 MB at N = 2,000).
   */
  serialize(): { json: GpRegressorJson; weights: ArrayBuffer } {
    const { p, k } = this.json.basis;
    const n = this.json.nTrain;
    const buffer = new Float64Array(weightCount(p, k, n));
    buffer.set(this.basis.mean, 0);
    buffer.set(this.basis.components, p);
    buffer.set(this.trainFeatures, p + k * p);
    buffer.set(this.state.alpha, p + k * p + n * k);
    let at = p + k * p + n * k + n;
    for (let i = 0; i < n; i++) {
      buffer.set(this.state.L.subarray(i * n, i * n + i + 1), at);
      at += i + 1;
    }
    return { json: this.json, weights: buffer.buffer };
  }

  static deserialize(json: GpRegressorJson, weights: ArrayBuffer): GpRegressor {
    if (json.format !== FORMAT) throw new Error(`not a GP regression model of this version (format ${String(json.format)}, expected ${FORMAT}): train it again`);
    const { p, k } = json.basis;
    const n = json.nTrain;
    const all = new Float64Array(weights);
    if (all.length !== weightCount(p, k, n)) throw new Error(`GP regression weights have ${all.length} values, expected ${weightCount(p, k, n)}`);
    const basis: PcaBasis = { ...json.basis, mean: all.slice(0, p), components: all.slice(p, p + k * p) };
    const features = all.slice(p + k * p, p + k * p + n * k);
    const alpha = all.slice(p + k * p + n * k, p + k * p + n * k + n);
    const L = new Float64Array(n * n);
    let at = p + k * p + n * k + n;
    for (let i = 0; i < n; i++) {
      L.set(all.subarray(at, at + i + 1), i * n);
      at += i + 1;
    }
    // Any jitter the fit needed is already inside the stored factor.
    return new GpRegressor(json, basis, features, { n, L, alpha, logMarginalLikelihood: json.logMarginalLikelihood, jitter: 0 });
  }
}

function weightCount(p: number, k: number, n: number): number {
  return p + k * p + n * k + n + (n * (n + 1)) / 2;
}

/** The PCA basis from the training images plus a seeded sample of the others, ≤ PCA_FIT_ROWS rows. */
function fitBasis(input: FitInput, stride: number): PcaBasis {
  const { imageSize: side, channels, trainX, seed } = input;
  const factor = poolFactorFor(side);
  const others = input.unlabelledX.filter((x) => x.length > 0);
  const otherCount = others.reduce((a, x) => a + x.length / stride, 0);
  const nTrain = trainX.length / stride;
  const takeTrain = Math.min(nTrain, PCA_FIT_ROWS);
  const takeOthers = Math.min(otherCount, PCA_FIT_ROWS - takeTrain);
  const rows: Float64Array[] = [poolImages(trainX, side, channels, factor, 0, takeTrain)];
  if (takeOthers > 0) {
    const pick = Array.from(permutation(otherCount, seed + 1).slice(0, takeOthers)).sort((a, b) => a - b);
    let offset = 0;
    for (const x of others) {
      const count = x.length / stride;
      for (const idx of pick) if (idx >= offset && idx < offset + count) rows.push(poolImages(x, side, channels, factor, idx - offset, idx - offset + 1));
      offset += count;
    }
  }
  const p = rows[0].length / takeTrain;
  const stacked = new Float64Array(rows.reduce((a, r) => a + r.length, 0));
  let at = 0;
  for (const r of rows) {
    stacked.set(r, at);
    at += r.length;
  }
  return fitPca(stacked, stacked.length / p, p, factor, { seed });
}

function medianDistance(x: Float64Array, n: number, d: number): number {
  const d2 = squaredDistances(x, n, x, n, d);
  const distances: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) distances.push(Math.sqrt(d2[i * n + j]));
  distances.sort((a, b) => a - b);
  const median = distances[Math.floor(distances.length / 2)] ?? 0;
  return median > 1e-9 ? median : Math.sqrt(d);
}

/** RMSE, MAE, Gaussian NLL and 90% coverage of predictions against held-out labels. */
export function regressionMetrics(prediction: RegressionPrediction, y: ArrayLike<number>): RegressionMetrics {
  const n = y.length;
  let se = 0;
  let ae = 0;
  let nll = 0;
  let covered = 0;
  for (let i = 0; i < n; i++) {
    const r = y[i] - prediction.mean[i];
    const v = prediction.predictiveVariance[i];
    se += r * r;
    ae += Math.abs(r);
    nll += 0.5 * Math.log(2 * Math.PI * v) + (r * r) / (2 * v);
    if (Math.abs(r) <= Z90 * Math.sqrt(v)) covered++;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, nll: nll / n, coverage90: covered / n, heldOut: n };
}
