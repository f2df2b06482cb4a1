/**
 * Predictive uncertainty decomposition (Depeweg et al., ICML 2018, eq. 4–5; Kendall & Gal 2017):
 *
 *   total     H[p̄]                 entropy of the mean predictive
 *   aleatoric E_s H[p_s]            expected entropy (data noise)
 *   epistemic H[p̄] − E_s H[p_s]    mutual information = BALD (model uncertainty), ≥ 0
 *
 * plus per-class mean and 90% credible interval (5% and 95% empirical quantiles over samples,
 * linear interpolation between order statistics, as numpy's default 'linear' method).
 */
import type { PredictiveSamples } from '../posterior/types.ts';
import { dims, entropyOf, meanProbs } from './base.ts';

export interface UncertaintyDecomposition {
  /** [N] H[p̄] (nats). */
  total: Float32Array;
  /** [N] E_s H[p_s]. */
  aleatoric: Float32Array;
  /** [N] total − aleatoric, clamped at 0. */
  epistemic: Float32Array;
  /** [N, C] p̄. */
  mean: Float32Array;
  /** [N, C] 5% quantile over samples. */
  lower: Float32Array;
  /** [N, C] 95% quantile over samples. */
  upper: Float32Array;
}

/** Empirical q-quantile of sorted values (numpy 'linear'). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function uncertaintyDecomposition(p: PredictiveSamples, interval: [number, number] = [0.05, 0.95]): UncertaintyDecomposition {
  const [S, N, C] = dims(p);
  const mean = meanProbs(p);
  const total = new Float32Array(N);
  const aleatoric = new Float32Array(N);
  const epistemic = new Float32Array(N);
  const lower = new Float32Array(N * C);
  const upper = new Float32Array(N * C);
  const column = new Float64Array(S);
  for (let n = 0; n < N; n++) {
    const h = entropyOf(mean, n * C, C);
    let e = 0;
    for (let s = 0; s < S; s++) e += entropyOf(p.probs, (s * N + n) * C, C);
    e /= S;
    total[n] = h;
    aleatoric[n] = e;
    epistemic[n] = Math.max(0, h - e);
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) column[s] = p.probs[(s * N + n) * C + c];
      sortSmall(column);
      lower[n * C + c] = quantileSorted(column, interval[0]);
      upper[n * C + c] = quantileSorted(column, interval[1]);
    }
  }
  return { total, aleatoric, epistemic, mean, lower, upper };
}

/**
 * Ascending in-place sort of a short column (S samples): insertion sort, several times faster than
 * TypedArray#sort for the S ≈ 20 of a predictive, which this loop runs N·C times; NaN-free input.
 */
function sortSmall(a: Float64Array): void {
  if (a.length > 64) {
    a.sort();
    return;
  }
  for (let i = 1; i < a.length; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}
