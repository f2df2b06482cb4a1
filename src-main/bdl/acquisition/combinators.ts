/**
 * Combining acquisitions by wrapping (baal-style): each combinator returns an Acquisition.
 */
import type { PredictiveSamples } from '../posterior/types.ts';
import { mulberry32 } from '../util/random.ts';
import type { Acquisition } from './base.ts';

/** Scores oriented so that larger = better (negated for 'min' acquisitions). */
function oriented(acq: Acquisition, p: PredictiveSamples): Float32Array {
  const s = acq.score(p);
  if (acq.direction === 'min') for (let i = 0; i < s.length; i++) s[i] = -s[i];
  return s;
}

/**
 * Stochastic power acquisition (Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal,
 * "Stochastic Batch Acquisition", TMLR 2023): draws a batch without replacement with probability
 * ∝ score^β. Implemented with the Gumbel-top-k trick: the wrapped scores are
 * log(s_n) + ε_n / β, ε_n ~ Gumbel(0, 1), so `topK` of them is such a draw.
 * Requires a 'max' acquisition with non-negative scores (BALD, entropy, …).
 */
export function powerAcquisition(acq: Acquisition, beta = 1, seed = 0): Acquisition {
  if (acq.direction !== 'max') throw new Error(`powerAcquisition needs a 'max' acquisition, got '${acq.name}' (min)`);
  if (!(beta > 0)) throw new Error(`powerAcquisition: beta must be > 0, got ${beta}`);
  return {
    name: `power(${acq.name}, β=${beta})`,
    direction: 'max',
    score(p: PredictiveSamples): Float32Array {
      const s = acq.score(p);
      const rand = mulberry32(seed);
      const out = new Float32Array(s.length);
      for (let i = 0; i < s.length; i++) {
        const u = Math.max(rand(), 1e-12);
        const gumbel = -Math.log(-Math.log(u));
        out[i] = Math.log(Math.max(s[i], 1e-30)) + gumbel / beta;
      }
      return out;
    },
  };
}

/**
 * Tempered softmax-rank acquisition ("softmax acquisition", Kirsch et al. 2023): perturbs the
 * oriented scores with Gumbel noise scaled by `temperature` (0 = deterministic top-k), so topK
 * samples without replacement ∝ exp(score / temperature). Works for 'max' and 'min' acquisitions.
 */
export function tempered(acq: Acquisition, temperature: number, seed = 0): Acquisition {
  if (!(temperature >= 0)) throw new Error(`tempered: temperature must be ≥ 0, got ${temperature}`);
  return {
    name: `tempered(${acq.name}, T=${temperature})`,
    direction: 'max',
    score(p: PredictiveSamples): Float32Array {
      const s = oriented(acq, p);
      if (temperature === 0) return s;
      const rand = mulberry32(seed);
      for (let i = 0; i < s.length; i++) {
        const u = Math.max(rand(), 1e-12);
        s[i] += temperature * -Math.log(-Math.log(u));
      }
      return s;
    },
  };
}

/**
 * Weighted sum of acquisitions after orienting each to 'max' and standardising it to zero mean,
 * unit std over the pool (so scales like nats vs probabilities are comparable).
 * @param parts acquisitions, or [acquisition, weight] pairs (weight default 1)
 */
export function weighted(parts: (Acquisition | [Acquisition, number])[]): Acquisition {
  if (parts.length === 0) throw new Error('weighted: at least one acquisition required');
  const items = parts.map((x) => (Array.isArray(x) ? { acq: x[0], w: x[1] } : { acq: x, w: 1 }));
  return {
    name: `weighted(${items.map((i) => `${i.w}·${i.acq.name}`).join(' + ')})`,
    direction: 'max',
    score(p: PredictiveSamples): Float32Array {
      let out: Float32Array | null = null;
      for (const { acq, w } of items) {
        const s = oriented(acq, p);
        const n = s.length;
        let mean = 0;
        for (let i = 0; i < n; i++) mean += s[i];
        mean /= Math.max(1, n);
        let v = 0;
        for (let i = 0; i < n; i++) v += (s[i] - mean) ** 2;
        const sd = Math.sqrt(v / Math.max(1, n)) || 1;
        out ??= new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] += (w * (s[i] - mean)) / sd;
      }
      return out!;
    },
  };
}
