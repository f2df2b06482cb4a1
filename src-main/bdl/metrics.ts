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

/**
 * @param meanProbs [N, C] predictive mean (rows sum to 1)
 * @param labels [N] class indices
 */
export function evaluate(meanProbs: Float32Array, labels: Int32Array, numClasses: number, bins = ECE_BINS): Evaluation {
  const C = numClasses;
  const N = labels.length;
  if (meanProbs.length !== N * C) throw new Error(`evaluate: meanProbs has ${meanProbs.length} values, expected N·C = ${N}·${C}`);
  const binConf = new Float64Array(bins);
  const binAcc = new Float64Array(bins);
  const binCount = new Float64Array(bins);
  let correct = 0;
  let top5 = 0;
  let nll = 0;
  let brier = 0;
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    if (!(y >= 0 && y < C)) throw new Error(`evaluate: label ${y} at ${n} is not in [0, ${C})`);
    const off = n * C;
    let best = 0;
    for (let c = 1; c < C; c++) if (meanProbs[off + c] > meanProbs[off + best]) best = c;
    const conf = meanProbs[off + best];
    const hit = best === y ? 1 : 0;
    correct += hit;
    if (C > 5) {
      // y is in the top 5 iff fewer than 5 classes beat it (ties broken by index, as argmax).
      const py = meanProbs[off + y];
      let above = 0;
      for (let c = 0; c < C; c++) {
        const v = meanProbs[off + c];
        if (v > py || (v === py && c < y)) above++;
      }
      if (above < 5) top5++;
    }
    nll -= Math.log(Math.max(meanProbs[off + y], 1e-12));
    for (let c = 0; c < C; c++) {
      const d = meanProbs[off + c] - (c === y ? 1 : 0);
      brier += d * d;
    }
    let b = Math.ceil(conf * bins) - 1;
    if (b < 0) b = 0;
    if (b >= bins) b = bins - 1;
    binConf[b] += conf;
    binAcc[b] += hit;
    binCount[b] += 1;
  }
  const reliability: ReliabilityBin[] = [];
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const count = binCount[b];
    const confidence = count > 0 ? binConf[b] / count : 0;
    const accuracy = count > 0 ? binAcc[b] / count : 0;
    if (count > 0) ece += (count / N) * Math.abs(accuracy - confidence);
    reliability.push({ binLower: b / bins, binUpper: (b + 1) / bins, confidence, accuracy, count });
  }
  const denom = Math.max(1, N);
  const out: Evaluation = {
    accuracy: N > 0 ? correct / N : NaN,
    nll: N > 0 ? nll / denom : NaN,
    ece: N > 0 ? ece : NaN,
    brier: N > 0 ? brier / denom : NaN,
    reliability,
  };
  if (C > 5) out.top5 = N > 0 ? top5 / N : NaN;
  return out;
}
