import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acquisitionFunctions,
  bald,
  entropy,
  getAcquisition,
  margin,
  meanStd,
  powerAcquisition,
  rank,
  randomAcquisition,
  selectBatch,
  tempered,
  topK,
  uncertaintyDecomposition,
  varRatios,
  weighted,
} from '../../src-main/bdl/acquisition/index.ts';
import type { PredictiveSamples } from '../../src-main/bdl/posterior/types.ts';
import { approx, randomArray } from './helpers.ts';

const ps = (S: number, N: number, C: number, values: number[]): PredictiveSamples => {
  assert.equal(values.length, S * N * C);
  return { probs: Float32Array.from(values), shape: [S, N, C] };
};
const H = (...p: number[]) => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
const close = (a: number, b: number, tol = 1e-6) => assert.ok(approx(a, b, tol), `${a} ≉ ${b}`);

// S=2, N=2, C=2. Image 0: samples disagree ([0.9,0.1] vs [0.1,0.9]); image 1: samples agree.
const disagree = ps(2, 2, 2, [0.9, 0.1, 0.7, 0.3, /* s=1 */ 0.1, 0.9, 0.7, 0.3]);

describe('BALD (mutual information)', () => {
  test('disagreeing confident samples: ln 2 − H(0.9, 0.1); agreeing samples: 0', () => {
    const s = bald.score(disagree);
    close(s[0], Math.log(2) - H(0.9, 0.1)); // = 0.3681
    close(s[0], 0.36807, 1e-4);
    close(s[1], 0, 1e-7);
    assert.equal(bald.direction, 'max');
  });

  test('identical samples give exactly 0; never negative on random inputs', () => {
    const same = ps(3, 1, 3, [0.2, 0.3, 0.5, 0.2, 0.3, 0.5, 0.2, 0.3, 0.5]);
    assert.equal(bald.score(same)[0], 0);
    const S = 7, N = 200, C = 5;
    const r = randomArray(S * N * C, 3, 0.001, 1);
    for (let i = 0; i < S * N; i++) {
      let z = 0;
      for (let c = 0; c < C; c++) z += r[i * C + c];
      for (let c = 0; c < C; c++) r[i * C + c] /= z;
    }
    const s = bald.score({ probs: r, shape: [S, N, C] });
    for (const v of s) assert.ok(v >= 0 && Number.isFinite(v));
    // near-identical samples (float noise) clamp to 0, not negative
    const eps = ps(2, 1, 2, [0.3, 0.7, 0.30000001, 0.69999999]);
    assert.ok(bald.score(eps)[0] >= 0);
  });

  test('uncertaintyDecomposition: total = aleatoric + epistemic, epistemic = BALD', () => {
    const d = uncertaintyDecomposition(disagree);
    close(d.total[0], Math.log(2));
    close(d.aleatoric[0], H(0.9, 0.1));
    close(d.epistemic[0], Math.log(2) - H(0.9, 0.1));
    close(d.total[1], H(0.7, 0.3));
    close(d.aleatoric[1], H(0.7, 0.3));
    close(d.epistemic[1], 0, 1e-7);
    assert.deepEqual(Array.from(d.mean).map((v) => +v.toFixed(6)), [0.5, 0.5, 0.7, 0.3]);
  });

  test('credible interval: 5% / 95% quantiles over samples (linear interpolation)', () => {
    // S=5 values for one class: 0, 0.25, 0.5, 0.75, 1 → q05 = 0.05, q95 = 0.95
    const v = [0, 0.25, 0.5, 0.75, 1];
    const p = ps(5, 1, 2, v.flatMap((x) => [x, 1 - x]));
    const d = uncertaintyDecomposition(p);
    close(d.lower[0], 0.05);
    close(d.upper[0], 0.95);
    close(d.lower[1], 0.05);
    close(d.upper[1], 0.95);
    close(d.mean[0], 0.5);
  });
});

describe('entropy, margin, variation ratios, mean std', () => {
  const p = ps(2, 2, 3, [
    // s = 0
    0.6, 0.3, 0.1, 0.2, 0.2, 0.6,
    // s = 1
    0.4, 0.5, 0.1, 0.2, 0.4, 0.4,
  ]);
  // mean: image 0 [0.5, 0.4, 0.1]; image 1 [0.2, 0.3, 0.5]
  test('entropy of the mean', () => {
    const s = entropy.score(p);
    close(s[0], H(0.5, 0.4, 0.1));
    close(s[1], H(0.2, 0.3, 0.5));
    assert.equal(entropy.direction, 'max');
  });
  test('margin = top1 − top2 of the mean, direction min', () => {
    const s = margin.score(p);
    close(s[0], 0.1);
    close(s[1], 0.2);
    assert.equal(margin.direction, 'min');
    assert.deepEqual(Array.from(rank(s, margin.direction)), [0, 1]);
  });
  test('variation ratios = 1 − max mean', () => {
    const s = varRatios.score(p);
    close(s[0], 0.5);
    close(s[1], 0.5);
  });
  test('mean std = mean over classes of the population std over samples', () => {
    const s = meanStd.score(p);
    // image 0: stds |0.6−0.4|/2 = 0.1, |0.3−0.5|/2 = 0.1, 0 → 0.2/3
    close(s[0], 0.2 / 3);
    // image 1: 0, 0.1, 0.1 → 0.2/3
    close(s[1], 0.2 / 3);
  });
});

describe('ranking and combination', () => {
  test('rank: descending for max, ascending for min, stable on ties, NaN last', () => {
    const s = Float32Array.from([0.5, 0.9, 0.5, NaN, 0.1]);
    assert.deepEqual(Array.from(rank(s, 'max')), [1, 0, 2, 4, 3]);
    assert.deepEqual(Array.from(rank(s, 'min')), [4, 0, 2, 1, 3]);
    assert.deepEqual(Array.from(topK(s, 2, 'max')), [1, 0]);
    assert.deepEqual(Array.from(topK(s, 10, 'min')).length, 5);
    assert.deepEqual(Array.from(topK(s, 0, 'min')), []);
  });

  test('selectBatch picks the most informative images under BALD', () => {
    assert.deepEqual(Array.from(selectBatch(bald, disagree, 1)), [0]);
  });

  test('random is seeded and reproducible', () => {
    const a = randomAcquisition(7).score(disagree);
    const b = randomAcquisition(7).score(disagree);
    const c = randomAcquisition(8).score(disagree);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(acquisitionFunctions.random.direction, 'max');
  });

  test('tempered(·, 0) keeps the order; margin is oriented to max', () => {
    const p = ps(1, 3, 2, [0.55, 0.45, 0.9, 0.1, 0.7, 0.3]);
    const t = tempered(margin, 0);
    assert.equal(t.direction, 'max');
    assert.deepEqual(Array.from(rank(t.score(p), t.direction)), Array.from(rank(margin.score(p), 'min')));
    const noisy = tempered(margin, 10, 1).score(p);
    assert.equal(noisy.length, 3);
  });

  test('powerAcquisition: β → ∞ recovers the ranking; refuses min acquisitions', () => {
    const p = ps(2, 2, 2, [0.9, 0.1, 0.7, 0.3, 0.1, 0.9, 0.7, 0.3]);
    const pw = powerAcquisition(bald, 1e9, 3);
    assert.deepEqual(Array.from(rank(pw.score(p), 'max')), [0, 1]);
    assert.throws(() => powerAcquisition(margin), /max/);
  });

  test('weighted: standardised sum; a single part reproduces its ranking', () => {
    const p = ps(1, 3, 2, [0.55, 0.45, 0.9, 0.1, 0.7, 0.3]);
    const w = weighted([margin]);
    assert.deepEqual(Array.from(rank(w.score(p), 'max')), Array.from(rank(margin.score(p), 'min')));
    const both = weighted([[entropy, 1], [varRatios, 2]]);
    assert.equal(both.score(p).length, 3);
  });

  test('registry and errors', () => {
    assert.deepEqual(Object.keys(acquisitionFunctions).sort(), ['bald', 'entropy', 'margin', 'mean-std', 'random', 'var-ratios']);
    for (const [name, a] of Object.entries(acquisitionFunctions)) assert.equal(a.name, name);
    assert.equal(getAcquisition('bald'), bald);
    assert.throws(() => getAcquisition('nope'), /Unknown acquisition 'nope'/);
    assert.throws(() => bald.score({ probs: new Float32Array(3), shape: [1, 2, 2] }), /does not match/);
  });
});
