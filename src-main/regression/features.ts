/**
 * Image features for GP regression: the cached model input (HWC uint8 at the project's size),
 * average-pooled to at most 32×32 per channel, scaled to [0, 1], centred, projected on its leading
 * principal components (≤ 32) and divided by one common scale so that the components have unit
 * mean variance. One common scale, not per-component whitening: the isotropic RBF kernel then sees
 * distances dominated by the directions along which the images really vary, not amplified noise.
 *
 * The principal components come from a randomised SVD (Halko, Martinsson & Tropp 2011, Alg. 4.4:
 * range finder with q = 2 power iterations) of at most `PCA_FIT_ROWS` images, then all images are
 * projected in chunks, so memory stays at O(chunk · P) whatever the pool size.
 */
import { symEig } from '../bdl/linalg/eig.ts';
import { standardNormal } from '../bdl/linalg/random.ts';

const MAX_POOLED_SIDE = 32;
const PCA_COMPONENTS = 32;
export const PCA_FIT_ROWS = 1000;
const CHUNK = 512;

export interface PcaBasis {
  /** Average-pooling factor applied to the model input first. */
  poolFactor: number;
  /** Pooled pixel count P = (S / poolFactor)² · C. */
  p: number;
  /** Components kept, K. */
  k: number;
  /** Mean of the pooled pixels [P]. */
  mean: Float64Array;
  /** Principal directions [K, P], row-major, orthonormal rows. */
  components: Float64Array;
  /** Common divisor of the projections. */
  scale: number;
}

/** The smallest factor dividing the side that brings it to ≤ 32 pixels (28 → 1, 64 → 2, 128 → 4, 224 → 7). */
export function poolFactorFor(side: number): number {
  for (let f = 1; f <= side; f++) if (side % f === 0 && side / f <= MAX_POOLED_SIDE) return f;
  return side;
}

/**
 * Average-pools images [N, S, S, C] uint8 (rows `from` to `to`) into [to − from, P] float64 in [0, 1].
 */
export function poolImages(x: Uint8Array, side: number, channels: number, factor: number, from: number, to: number): Float64Array {
  const s = side / factor;
  const p = s * s * channels;
  const stride = side * side * channels;
  const out = new Float64Array((to - from) * p);
  const norm = 1 / (255 * factor * factor);
  for (let n = from; n < to; n++) {
    const base = n * stride;
    const o = (n - from) * p;
    for (let r = 0; r < side; r++) {
      const pr = Math.floor(r / factor);
      for (let c = 0; c < side; c++) {
        const pc = Math.floor(c / factor);
        const src = base + (r * side + c) * channels;
        const dst = o + (pr * s + pc) * channels;
        for (let ch = 0; ch < channels; ch++) out[dst + ch] += x[src + ch] * norm;
      }
    }
  }
  return out;
}

/** Orthonormalises the columns of A [n, l] in place (modified Gram–Schmidt); degenerate columns become 0. */
function orthonormalizeColumns(a: Float64Array, n: number, l: number): void {
  for (let j = 0; j < l; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += a[r * l + i] * a[r * l + j];
      for (let r = 0; r < n; r++) a[r * l + j] -= dot * a[r * l + i];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += a[r * l + j] ** 2;
    norm = Math.sqrt(norm);
    const inv = norm > 1e-10 ? 1 / norm : 0;
    for (let r = 0; r < n; r++) a[r * l + j] *= inv;
  }
}

/** A [n, p] · B [p, l] → [n, l]. */
function mulNP(a: Float64Array, b: Float64Array, n: number, p: number, l: number): Float64Array {
  const out = new Float64Array(n * l);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < p; k++) {
      const v = a[i * p + k];
      if (v === 0) continue;
      for (let j = 0; j < l; j++) out[i * l + j] += v * b[k * l + j];
    }
  return out;
}

/** Aᵀ [p, n] · Q [n, l] → [p, l] for A [n, p]. */
function mulTN(a: Float64Array, q: Float64Array, n: number, p: number, l: number): Float64Array {
  const out = new Float64Array(p * l);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < p; k++) {
      const v = a[i * p + k];
      if (v === 0) continue;
      for (let j = 0; j < l; j++) out[k * l + j] += v * q[i * l + j];
    }
  return out;
}

/**
 * Fits the basis on pooled rows X [n, P]: the mean, the top K ≤ `maxComponents` principal directions
 * (fewer when the rows span fewer), and the common scale.
 */
export function fitPca(rows: Float64Array, n: number, p: number, poolFactor: number, options: { maxComponents?: number; seed?: number } = {}): PcaBasis {
  if (rows.length !== n * p || n < 2) throw new Error(`fitPca: need at least 2 rows of ${p} values`);
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) mean[k] += rows[i * p + k] / n;
  const xc = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let k = 0; k < p; k++) xc[i * p + k] = rows[i * p + k] - mean[k];

  const maxK = Math.min(options.maxComponents ?? PCA_COMPONENTS, n - 1, p);
  const l = Math.min(maxK + 10, n, p);
  let q = mulNP(xc, standardNormal(p * l, options.seed ?? 0), n, p, l);
  orthonormalizeColumns(q, n, l);
  for (let it = 0; it < 2; it++) {
    const z = mulTN(xc, q, n, p, l);
    orthonormalizeColumns(z, p, l);
    q = mulNP(xc, z, n, p, l);
    orthonormalizeColumns(q, n, l);
  }
  // B = Qᵀ Xc [l, P]; the eigenvectors of B Bᵀ give B's left singular vectors.
  const bT = mulTN(xc, q, n, p, l); // Bᵀ [P, l]
  const bbt = new Float64Array(l * l);
  for (let k = 0; k < p; k++)
    for (let i = 0; i < l; i++) {
      const v = bT[k * l + i];
      if (v === 0) continue;
      for (let j = 0; j < l; j++) bbt[i * l + j] += v * bT[k * l + j];
    }
  const { values, vectors } = symEig(bbt, l);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
  const top = values[order[0]];
  const kept = order.slice(0, maxK).filter((j) => values[j] > Math.max(1e-12, 1e-9 * top));
  if (kept.length === 0) throw new Error('the images used for the features are all identical: nothing to learn from');
  const k = kept.length;
  const components = new Float64Array(k * p);
  let varianceSum = 0;
  kept.forEach((j, c) => {
    const s = Math.sqrt(values[j]);
    varianceSum += values[j] / (n - 1);
    for (let d = 0; d < p; d++) {
      let t = 0;
      for (let i = 0; i < l; i++) t += bT[d * l + i] * vectors![i * l + j];
      components[c * p + d] = t / s;
    }
  });
  return { poolFactor, p, k, mean, components, scale: Math.sqrt(varianceSum / k) };
}

/** Features [N, K] of pooled rows [N, P]. */
export function projectRows(basis: PcaBasis, rows: Float64Array, n: number): Float64Array {
  const { p, k, mean, components, scale } = basis;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < k; c++) {
      let t = 0;
      for (let d = 0; d < p; d++) t += (rows[i * p + d] - mean[d]) * components[c * p + d];
      out[i * k + c] = t / scale;
    }
  return out;
}

/** Features [N, K] of model inputs [N, S, S, C] uint8, pooled and projected a chunk at a time. */
export function imageFeatures(basis: PcaBasis, x: Uint8Array, side: number, channels: number, onChunk?: (done: number, total: number) => void): Float64Array {
  const n = x.length / (side * side * channels);
  const out = new Float64Array(n * basis.k);
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK);
    out.set(projectRows(basis, poolImages(x, side, channels, basis.poolFactor, from, to), to - from), from * basis.k);
    onChunk?.(to, n);
  }
  return out;
}
