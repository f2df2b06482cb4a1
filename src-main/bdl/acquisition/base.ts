/**
 * Acquisition functions on predictive samples (baal's pattern: a function = a score and a
 * direction; ranking is shared; combinations wrap other acquisitions).
 *
 * All work on plain typed arrays: p = probs [S, N, C] (row-major), scores [N].
 */
import type { PredictiveSamples } from '../posterior/types.ts';

export type Direction = 'max' | 'min';

export interface Acquisition {
  readonly name: string;
  /** Whether high ('max') or low ('min') scores are the most informative. */
  readonly direction: Direction;
  /** One score per image: probs [S, N, C] → Float32Array [N]. */
  score(p: PredictiveSamples): Float32Array;
}

/** Validates a PredictiveSamples and returns its [S, N, C]. */
export function dims(p: PredictiveSamples): [number, number, number] {
  const [S, N, C] = p.shape;
  if (!(S >= 1 && N >= 0 && C >= 1) || p.probs.length !== S * N * C) {
    throw new Error(`PredictiveSamples: probs length ${p.probs.length} does not match shape [${p.shape.join(', ')}]`);
  }
  return [S, N, C];
}

/** Mean over samples: [S, N, C] → [N, C] (float64 accumulation). */
export function meanProbs(p: PredictiveSamples): Float32Array {
  const [S, N, C] = dims(p);
  const acc = new Float64Array(N * C);
  const { probs } = p;
  for (let s = 0; s < S; s++) {
    const off = s * N * C;
    for (let i = 0; i < N * C; i++) acc[i] += probs[off + i];
  }
  const out = new Float32Array(N * C);
  for (let i = 0; i < N * C; i++) out[i] = acc[i] / S;
  return out;
}

/** Shannon entropy (nats) of a probability row, with 0·log 0 = 0. */
export function entropyOf(row: ArrayLike<number>, offset: number, c: number): number {
  let h = 0;
  for (let k = 0; k < c; k++) {
    const v = row[offset + k];
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/**
 * Indices sorted best first: descending scores for 'max', ascending for 'min'. Stable (ties keep
 * index order); NaN scores go last.
 * @param scores [N]
 * @returns Int32Array [N] of indices into scores
 */
export function rank(scores: ArrayLike<number>, direction: Direction): Int32Array {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const sign = direction === 'max' ? -1 : 1;
  idx.sort((a, b) => {
    const va = scores[a];
    const vb = scores[b];
    const na = Number.isNaN(va);
    const nb = Number.isNaN(vb);
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    if (va !== vb) return sign * (va - vb);
    return a - b;
  });
  return Int32Array.from(idx);
}

/** The k best indices (k clipped to [0, N]); same order as {@link rank}. */
export function topK(scores: ArrayLike<number>, k: number, direction: Direction): Int32Array {
  return rank(scores, direction).slice(0, Math.max(0, Math.min(k, scores.length)));
}

/** Scores `p` with `acq` and returns the k best pool indices. */
export function selectBatch(acq: Acquisition, p: PredictiveSamples, k: number): Int32Array {
  return topK(acq.score(p), k, acq.direction);
}
