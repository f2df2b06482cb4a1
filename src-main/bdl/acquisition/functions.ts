/**
 * The standard acquisition functions of Gal, Islam & Ghahramani 2017 (§3) on MC samples
 * p_s(y = c | x_n), s = 1..S. Natural logarithms (nats). p̄ = mean over samples.
 */
import type { PredictiveSamples } from '../posterior/types.ts';
import { mulberry32 } from '../util/random.ts';
import { type Acquisition, dims, entropyOf, meanProbs } from './base.ts';

/**
 * BALD (Houlsby et al. 2011, eq. 2 of Gal et al. 2017): mutual information between y and ω,
 *   I[y; ω | x, D] = H[p̄] − 1/S Σ_s H[p_s]   (≥ 0; float rounding negatives clamped to 0).
 */
export function baldScores(p: PredictiveSamples): Float32Array {
  const [S, N, C] = dims(p);
  const mean = meanProbs(p);
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let expected = 0;
    for (let s = 0; s < S; s++) expected += entropyOf(p.probs, (s * N + n) * C, C);
    const mi = entropyOf(mean, n * C, C) - expected / S;
    out[n] = mi > 0 ? mi : 0;
  }
  return out;
}

/** Max entropy (Shannon 1948): H[p̄] = −Σ_c p̄_c log p̄_c. */
export function entropyScores(p: PredictiveSamples): Float32Array {
  const [, N, C] = dims(p);
  const mean = meanProbs(p);
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) out[n] = entropyOf(mean, n * C, C);
  return out;
}

/** Margin (Scheffer et al. 2001): p̄_(1) − p̄_(2), the gap between the two most probable classes. */
export function marginScores(p: PredictiveSamples): Float32Array {
  const [, N, C] = dims(p);
  const mean = meanProbs(p);
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let a = -Infinity;
    let b = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = mean[n * C + c];
      if (v > a) {
        b = a;
        a = v;
      } else if (v > b) b = v;
    }
    out[n] = C > 1 ? a - b : 1;
  }
  return out;
}

/** Variation ratios (Freeman 1965), as in Gal et al. 2017: 1 − max_c p̄_c. */
export function varRatiosScores(p: PredictiveSamples): Float32Array {
  const [, N, C] = dims(p);
  const mean = meanProbs(p);
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let c = 0; c < C; c++) m = Math.max(m, mean[n * C + c]);
    out[n] = 1 - m;
  }
  return out;
}

/**
 * Mean standard deviation (Kampffmeyer et al. 2016; Kendall et al. 2015):
 *   σ(x) = 1/C Σ_c sqrt( E_s[p_s,c²] − (E_s[p_s,c])² )   (population std over samples).
 */
export function meanStdScores(p: PredictiveSamples): Float32Array {
  const [S, N, C] = dims(p);
  const out = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let total = 0;
    for (let c = 0; c < C; c++) {
      let m = 0;
      let m2 = 0;
      for (let s = 0; s < S; s++) {
        const v = p.probs[(s * N + n) * C + c];
        m += v;
        m2 += v * v;
      }
      m /= S;
      total += Math.sqrt(Math.max(0, m2 / S - m * m));
    }
    out[n] = total / C;
  }
  return out;
}

export const bald: Acquisition = { name: 'bald', direction: 'max', score: baldScores };
export const entropy: Acquisition = { name: 'entropy', direction: 'max', score: entropyScores };
export const margin: Acquisition = { name: 'margin', direction: 'min', score: marginScores };
export const varRatios: Acquisition = { name: 'var-ratios', direction: 'max', score: varRatiosScores };
export const meanStd: Acquisition = { name: 'mean-std', direction: 'max', score: meanStdScores };

/** Uniform random scores in [0, 1) (the "random acquisition" baseline), seeded. */
export function randomAcquisition(seed = 0): Acquisition {
  return {
    name: 'random',
    direction: 'max',
    score(p: PredictiveSamples): Float32Array {
      const [, N] = dims(p);
      const rand = mulberry32(seed);
      const out = new Float32Array(N);
      for (let n = 0; n < N; n++) out[n] = rand();
      return out;
    },
  };
}

export const random: Acquisition = randomAcquisition(0);

export type AcquisitionName = 'bald' | 'entropy' | 'margin' | 'var-ratios' | 'mean-std' | 'random';

export const acquisitionFunctions: Record<AcquisitionName, Acquisition> = {
  bald,
  entropy,
  margin,
  'var-ratios': varRatios,
  'mean-std': meanStd,
  random,
};

export const ACQUISITION_NAMES = Object.keys(acquisitionFunctions) as AcquisitionName[];

/** Looks up an acquisition by name with a clear error. */
export function getAcquisition(name: string): Acquisition {
  if (!Object.prototype.hasOwnProperty.call(acquisitionFunctions, name)) {
    throw new Error(`Unknown acquisition '${name}'. Known: ${ACQUISITION_NAMES.join(', ')}`);
  }
  return acquisitionFunctions[name as AcquisitionName];
}
