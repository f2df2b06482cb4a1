/**
 * BatchBALD against brute-force joint mutual information, BALD for b = 1, its sampled estimator,
 * power-BALD's sampling distribution (Gumbel-top-k), and consistent MC-dropout masks.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { batchBald, jointMutualInformation } from '../../src-main/bdl/acquisition/batchBald.ts';
import { bald, baldScores, powerAcquisition, topK, type Acquisition } from '../../src-main/bdl/acquisition/index.ts';
import { createPosterior, type PredictiveSamples } from '../../src-main/bdl/posterior/index.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';

/** Random predictive samples [S, N, C]: each row a softmax of scaled Gaussian-ish logits. */
function randomSamples(S: number, N: number, C: number, seed: number, scale = 3): PredictiveSamples {
  const rand = mulberry32(seed);
  const probs = new Float32Array(S * N * C);
  for (let r = 0; r < S * N; r++) {
    let z = 0;
    for (let c = 0; c < C; c++) {
      const v = Math.exp(scale * (rand() + rand() + rand() - 1.5));
      probs[r * C + c] = v;
      z += v;
    }
    for (let c = 0; c < C; c++) probs[r * C + c] /= z;
  }
  return { probs, shape: [S, N, C] };
}

/** Builds [S, N, C] from per-image lists of per-sample rows. */
function fromImages(images: number[][][]): PredictiveSamples {
  const N = images.length;
  const S = images[0].length;
  const C = images[0][0].length;
  const probs = new Float32Array(S * N * C);
  images.forEach((rows, i) => rows.forEach((row, s) => row.forEach((v, c) => (probs[(s * N + i) * C + c] = v))));
  return { probs, shape: [S, N, C] };
}

describe('BatchBALD', () => {
  test('b = 1 is BALD: the same first point and the same value', () => {
    for (const seed of [1, 2, 3]) {
      const p = randomSamples(8, 12, 4, seed);
      const scores = baldScores(p);
      const res = batchBald(p, 1);
      assert.equal(res.indices[0], topK(scores, 1, 'max')[0]);
      assert.ok(Math.abs(res.jointMutualInformation[0] - scores[res.indices[0]]) < 1e-5, `${res.jointMutualInformation[0]} vs ${scores[res.indices[0]]}`);
    }
  });

  test('exact greedy steps maximise the brute-force joint mutual information', () => {
    const p = randomSamples(6, 9, 3, 7);
    const res = batchBald(p, 4, { exactLimit: 1000 });
    assert.deepEqual(res.modes, ['exact', 'exact', 'exact', 'exact']);
    assert.equal(new Set(res.indices).size, 4);
    for (let n = 0; n < 4; n++) {
      const prefix = Array.from(res.indices.slice(0, n));
      const brute = jointMutualInformation(p, Array.from(res.indices.slice(0, n + 1)));
      // (float32 rows sum to 1 only to ~1e-7, so the two exact formulas agree to ~1e-8)
      assert.ok(Math.abs(res.jointMutualInformation[n] - brute) < 1e-6, `step ${n}: ${res.jointMutualInformation[n]} vs brute force ${brute}`);
      let best = -Infinity;
      for (let x = 0; x < 9; x++) if (!prefix.includes(x)) best = Math.max(best, jointMutualInformation(p, [...prefix, x]));
      assert.ok(Math.abs(brute - best) < 1e-6, `step ${n}: chose MI ${brute}, best candidate has ${best}`);
    }
  });

  test('the sampled joint entropy (M configurations) agrees with brute force', () => {
    const p = randomSamples(10, 8, 3, 11);
    const exact = batchBald(p, 4, { exactLimit: 1000 });
    const sampled = batchBald(p, 4, { exactLimit: 1, samples: 20_000, seed: 5 });
    assert.deepEqual(sampled.modes, ['exact', 'sampled', 'sampled', 'sampled']);
    for (let n = 0; n < 4; n++) {
      const brute = jointMutualInformation(p, Array.from(sampled.indices.slice(0, n + 1)));
      assert.ok(Math.abs(sampled.jointMutualInformation[n] - brute) < 0.02, `step ${n}: estimate ${sampled.jointMutualInformation[n]} vs ${brute}`);
      // The sampled choice is (near-)optimal too.
      assert.ok(brute > exact.jointMutualInformation[n] - 0.02, `step ${n}: ${brute} vs exact greedy ${exact.jointMutualInformation[n]}`);
    }
  });

  test('avoids duplicates that top-k BALD takes', () => {
    const A = [[0.99, 0.01], [0.01, 0.99], [0.99, 0.01], [0.01, 0.99]];
    const B = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.9]];
    const p = fromImages([A, A, A, B, [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]]);
    assert.deepEqual([...topK(bald.score(p), 3, 'max')].sort(), [0, 1, 2]);
    const res = batchBald(p, 2);
    assert.ok(res.indices[0] <= 2);
    assert.equal(res.indices[1], 3, 'after one copy of A, B (orthogonal information) beats another copy of A');
  });

  test('respects candidates and clips the batch to them', () => {
    const p = randomSamples(5, 10, 3, 3);
    const res = batchBald(p, 5, { candidates: [2, 4, 6] });
    assert.deepEqual([...res.indices].sort(), [2, 4, 6]);
  });
});

describe('stochastic power-BALD (Gumbel-top-k)', () => {
  const fixed = (scores: number[]): Acquisition => ({ name: 'fixed', direction: 'max', score: () => Float32Array.from(scores) });

  test('draws the first point with probability ∝ score^β, and pairs without replacement', () => {
    const scores = [0.1, 0.2, 0.3, 0.4];
    for (const beta of [1, 2]) {
      const w = scores.map((s) => s ** beta);
      const z = w.reduce((a, b) => a + b, 0);
      const pr = w.map((v) => v / z);
      const draws = 20_000;
      const first = [0, 0, 0, 0];
      let pair32 = 0;
      const dummy: PredictiveSamples = { probs: new Float32Array(4), shape: [1, 4, 1] };
      for (let d = 0; d < draws; d++) {
        const acq = powerAcquisition(fixed(scores), beta, 1000 + d);
        const top = topK(acq.score(dummy), 2, 'max');
        first[top[0]]++;
        if (top[0] === 3 && top[1] === 2) pair32++;
      }
      for (let i = 0; i < 4; i++) {
        const sd = Math.sqrt((pr[i] * (1 - pr[i])) / draws);
        assert.ok(Math.abs(first[i] / draws - pr[i]) < 4 * sd, `β=${beta}, i=${i}: ${first[i] / draws} vs ${pr[i]}`);
      }
      // Plackett–Luce: P(3 then 2) = p3 · p2 / (1 − p3).
      const expected = (pr[3] * pr[2]) / (1 - pr[3]);
      const sd = Math.sqrt((expected * (1 - expected)) / draws);
      assert.ok(Math.abs(pair32 / draws - expected) < 4 * sd, `β=${beta}: P(3,2) ${pair32 / draws} vs ${expected}`);
    }
  });
});

describe('consistent MC-dropout masks', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const subsetOfWeights of ['all', 'last-layer'] as const) {
    test(`sample s uses the same masks for every image, across batches (${subsetOfWeights})`, async () => {
      const post = createPosterior({ method: 'mc-dropout', imageSize: 28, channels: 1, numClasses: 3, seed: 4, subsetOfWeights });
      try {
        const rand = mulberry32(9);
        const one = Uint8Array.from({ length: 784 }, () => Math.floor(rand() * 256));
        const copies = 5;
        const x = new Uint8Array(copies * 784);
        for (let i = 0; i < copies; i++) x.set(one, i * 784);
        const S = 6;
        const C = 3;
        const spread = (p: PredictiveSamples) => {
          let worst = 0;
          for (let s = 0; s < S; s++) for (let i = 1; i < copies; i++) for (let c = 0; c < C; c++) worst = Math.max(worst, Math.abs(p.probs[(s * copies + i) * C + c] - p.probs[(s * copies) * C + c]));
          return worst;
        };
        const consistent = await post.predictiveSamples(x, { samples: S, batchSize: 2, consistentMasks: true });
        const independent = await post.predictiveSamples(x, { samples: S, batchSize: 2 });
        assert.ok(spread(consistent) < 1e-5, `copies differ by ${spread(consistent)} with consistent masks`);
        assert.ok(spread(independent) > 1e-3, 'independent masks should differ between copies');
        // The samples still differ from one another (the masks do change with s).
        let between = 0;
        for (let c = 0; c < C; c++) between = Math.max(between, Math.abs(consistent.probs[c] - consistent.probs[copies * C + c]));
        assert.ok(between > 1e-4);
      } finally {
        post.dispose();
      }
    });
  }
});
