/**
 * Cold start: the initial labelled set and the first acquisition rounds, when the model is too
 * poor for its uncertainty to be trusted.
 *
 * - {@link balancedInitial}: a class-balanced random initial set (Gal et al. 2017 start from 20
 *   random but balanced MNIST digits) — the oracle knows the labels in a simulation.
 * - {@link kCenterGreedy}: the k-centre greedy "core-set" selection of Sener & Savarese (ICLR 2018):
 *   repeatedly take the candidate farthest (Euclidean) from every centre chosen so far, starting
 *   from the labelled images; on the network's penultimate features or on raw pixels. It covers
 *   the pool evenly instead of chasing the uncertainty of a model trained on a handful of labels.
 */
import { mulberry32, permutation } from '../bdl/util/random.ts';

/**
 * `n` indices of `labels`, as equal per class as the classes allow (the remainder to classes
 * picked at random), each class's images in random order. Seeded.
 */
export function balancedInitial(labels: Int32Array, n: number, numClasses: number, seed: number): Int32Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`initial set size must be a non-negative integer, got ${n}`);
  if (n > labels.length) throw new Error(`initial set of ${n} is larger than the pool (${labels.length})`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  const order = permutation(labels.length, seed);
  for (const i of order) byClass[labels[i]].push(i);
  const quota = new Array<number>(numClasses).fill(0);
  const rand = mulberry32(seed ^ 0x9e3779b9);
  let left = n;
  // Rounds of one image per class (classes in random order) until n are taken.
  while (left > 0) {
    const classes = Array.from(permutation(numClasses, Math.floor(rand() * 2 ** 31)));
    let took = false;
    for (const c of classes) {
      if (left === 0) break;
      if (quota[c] < byClass[c].length) {
        quota[c]++;
        left--;
        took = true;
      }
    }
    if (!took) break;
  }
  const out: number[] = [];
  byClass.forEach((rows, c) => out.push(...rows.slice(0, quota[c])));
  return Int32Array.from(out);
}

/** Raw pixels of rows of a uint8 [N, D] buffer as float32 [rows, D] in [0, 1]. */
export function pixelFeatures(x: Uint8Array, perImage: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * perImage);
  for (let r = 0; r < rows.length; r++) {
    const src = rows[r] * perImage;
    for (let d = 0; d < perImage; d++) out[r * perImage + d] = x[src + d] / 255;
  }
  return out;
}

function squaredDistance(f: Float32Array, dim: number, a: number, b: number): number {
  let d = 0;
  const oa = a * dim;
  const ob = b * dim;
  for (let k = 0; k < dim; k++) {
    const t = f[oa + k] - f[ob + k];
    d += t * t;
  }
  return d;
}

/**
 * k-centre greedy (Sener & Savarese 2018, Algorithm 1) over rows of `features` [R, dim]:
 * `centres` are the rows already labelled, `candidates` the rows that may be chosen. Returns k
 * candidate rows (fewer when there are fewer candidates), each the farthest from all centres so
 * far. With no centre, the first pick is a seeded random candidate.
 */
export function kCenterGreedy(
  features: Float32Array,
  dim: number,
  centres: ArrayLike<number>,
  candidates: ArrayLike<number>,
  k: number,
  seed = 0,
): Int32Array {
  const m = candidates.length;
  const take = Math.max(0, Math.min(k, m));
  const minDist = new Float64Array(m).fill(Infinity);
  for (let c = 0; c < centres.length; c++) {
    for (let i = 0; i < m; i++) {
      const d = squaredDistance(features, dim, candidates[i], centres[c]);
      if (d < minDist[i]) minDist[i] = d;
    }
  }
  const chosen: number[] = [];
  const used = new Uint8Array(m);
  for (let t = 0; t < take; t++) {
    let best = -1;
    if (t === 0 && centres.length === 0) best = Math.floor(mulberry32(seed)() * m);
    else {
      let bestD = -1;
      for (let i = 0; i < m; i++) if (!used[i] && minDist[i] > bestD) (bestD = minDist[i]), (best = i);
    }
    used[best] = 1;
    chosen.push(candidates[best]);
    for (let i = 0; i < m; i++) {
      if (used[i]) continue;
      const d = squaredDistance(features, dim, candidates[i], candidates[best]);
      if (d < minDist[i]) minDist[i] = d;
    }
  }
  return Int32Array.from(chosen);
}
