/**
 * Classification metrics of a predictive mean p̄ [N, C] against labels [N].
 *
 * - accuracy: argmax p̄ = y (ties → lowest class index);
 * - top5: y among the 5 most probable classes (only when C > 5);
 * - nll: −1/N Σ log p̄_y (probabilities clamped at 1e-12);
 * - ece: expected calibration error with 15 equal-width confidence bins (Guo et al., ICML 2017,
 *   eq. 3; Naeini et al. 2015): Σ_b |B_b|/N · |acc(B_b) − conf(B_b)|, bins (l, u] (first [0, u]);
 * - brier: Brier 1950, Σ_c (p̄_c − 1[y = c])² summed over classes, averaged over N;
 * - reliability: per bin lower/upper edge, mean confidence, accuracy and count (0 when empty).
 */

export interface ReliabilityBin {
  binLower: number;
  binUpper: number;
  confidence: number;
  accuracy: number;
  count: number;
}

export interface Evaluation {
  accuracy: number;
  top5?: number;
  nll: number;
  ece: number;
  brier: number;
  reliability: ReliabilityBin[];
}

export const ECE_BINS = 15;

/** What each image contributes: argmax class (ties → lowest index), its probability, hit, −log p̄_y, Brier term. */
export interface PerImageTerms {
  predicted: Int32Array;
  confidence: Float64Array;
  hit: Uint8Array;
  nll: Float64Array;
  brier: Float64Array;
}

/**
 * @param meanProbs [N, C] predictive mean (rows sum to 1)
 * @param labels [N] class indices
 */
export function perImageTerms(meanProbs: Float32Array, labels: Int32Array, numClasses: number, caller = 'evaluate'): PerImageTerms {
  const C = numClasses;
  const N = labels.length;
  if (meanProbs.length !== N * C) throw new Error(`${caller}: meanProbs has ${meanProbs.length} values, expected N·C = ${N}·${C}`);
  const terms: PerImageTerms = { predicted: new Int32Array(N), confidence: new Float64Array(N), hit: new Uint8Array(N), nll: new Float64Array(N), brier: new Float64Array(N) };
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    if (!(y >= 0 && y < C)) throw new Error(`${caller}: label ${y} at ${n} is not in [0, ${C})`);
    const off = n * C;
    let best = 0;
    for (let c = 1; c < C; c++) if (meanProbs[off + c] > meanProbs[off + best]) best = c;
    terms.predicted[n] = best;
    terms.confidence[n] = meanProbs[off + best];
    terms.hit[n] = best === y ? 1 : 0;
    terms.nll[n] = -Math.log(Math.max(meanProbs[off + y], 1e-12));
    let brier = 0;
    for (let c = 0; c < C; c++) {
      const d = meanProbs[off + c] - (c === y ? 1 : 0);
      brier += d * d;
    }
    terms.brier[n] = brier;
  }
  return terms;
}

/**
 * ECE and reliability bins of confidences and hits; `weight` (image multiplicities, e.g. of a
 * bootstrap resample) counts image n weight[n] times, null once each.
 */
export function calibration(confidence: ArrayLike<number>, hit: ArrayLike<number>, weight: ArrayLike<number> | null, bins = ECE_BINS): { ece: number; reliability: ReliabilityBin[] } {
  const binConf = new Float64Array(bins);
  const binAcc = new Float64Array(bins);
  const binCount = new Float64Array(bins);
  let total = 0;
  for (let n = 0; n < confidence.length; n++) {
    const w = weight ? weight[n] : 1;
    if (w === 0) continue;
    let b = Math.ceil(confidence[n] * bins) - 1;
    if (b < 0) b = 0;
    if (b >= bins) b = bins - 1;
    binConf[b] += w * confidence[n];
    binAcc[b] += w * hit[n];
    binCount[b] += w;
    total += w;
  }
  const reliability: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const count = binCount[b];
    const confidence = count > 0 ? binConf[b] / count : 0;
    const accuracy = count > 0 ? binAcc[b] / count : 0;
    if (count > 0) ece += (count / total) * Math.abs(accuracy - confidence);
    reliability.push({ binLower: b / bins, binUpper: (b + 1) / bins, confidence, accuracy, count });
  }
  return { ece: total > 0 ? ece : NaN, reliability };
}

const mean = (values: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length > 0 ? sum / values.length : NaN;
};

/**
 * @param meanProbs [N, C] predictive mean (rows sum to 1)
 * @param labels [N] class indices
 */
export function evaluate(meanProbs: Float32Array, labels: Int32Array, numClasses: number, bins = ECE_BINS): Evaluation {
  const C = numClasses;
  const N = labels.length;
  const terms = perImageTerms(meanProbs, labels, C);
  const { ece, reliability } = calibration(terms.confidence, terms.hit, null, bins);
  const out: Evaluation = { accuracy: mean(terms.hit), nll: mean(terms.nll), ece, brier: mean(terms.brier), reliability };
  if (C > 5) {
    let top5 = 0;
    for (let n = 0; n < N; n++) {
      // y is in the top 5 iff fewer than 5 classes beat it (ties broken by index, as argmax).
      const off = n * C;
      const y = labels[n];
      const py = meanProbs[off + y];
      let above = 0;
      for (let c = 0; c < C; c++) {
        const v = meanProbs[off + c];
        if (v > py || (v === py && c < y)) above++;
      }
      if (above < 5) top5++;
    }
    out.top5 = N > 0 ? top5 / N : NaN;
  }
  return out;
}
