/**
 * The re-rank's scoring kernels: the tiled logits equal a plain triple loop at sizes that are not
 * multiples of the 4 × 4 tile, and a pool scored on worker threads gets the same scores as on the
 * main thread.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headLogitsBlock, transposeHead } from '../../src-main/bdl/posterior/headLogits.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { rerankFeatures } from '../../src-main/ranking/rerank.ts';

test('tiled head logits = Φ̃ W̃ computed naively, with row and column remainders', () => {
  const rand = mulberry32(9);
  for (const [n, d, cols] of [[7, 5, 6], [4, 3, 4], [1, 9, 3], [13, 16, 22], [64, 128, 200]]) {
    const phi = Float32Array.from({ length: n * d }, () => rand() * 2 - 1);
    const w = Float32Array.from({ length: (d + 1) * cols }, () => rand() * 2 - 1);
    const g = new Float64Array(n * cols);
    headLogitsBlock(Float64Array.from(phi), n, transposeHead(w, d, cols), g);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < cols; j++) {
        let want = w[d * cols + j];
        for (let i = 0; i < d; i++) want += phi[r * d + i] * w[i * cols + j];
        assert.ok(Math.abs(g[r * cols + j] - want) < 1e-9, `[${n}, ${d}, ${cols}] row ${r} col ${j}: ${g[r * cols + j]} vs ${want}`);
      }
    }
  }
  assert.throws(() => transposeHead(new Float32Array(5), 2, 2), /weights must be \[3, 2\]/);
});

test('a pool scored on 2 worker threads gets exactly the main thread scores', { timeout: 120_000 }, async () => {
  const rand = mulberry32(2);
  const dim = 12;
  const n = 2001;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  const phi = Float32Array.from({ length: n * dim }, (_, k) => Math.max(0, (y[Math.floor(k / dim)] === k % 3 ? 1.5 : 0) + rand() - 0.6));
  const labelled = Array.from({ length: 60 }, (_, i) => i);
  const pool = Array.from({ length: n - 60 }, (_, i) => 60 + i);
  for (const model of ['linear', 'logistic'] as const) {
    const one = await rerankFeatures(phi, dim, labelled, y.slice(0, 60), pool, 3, { model, workers: 1 });
    const two = await rerankFeatures(phi, dim, labelled, y.slice(0, 60), pool, 3, { model, workers: 2 });
    for (const key of Object.keys(one.scores) as (keyof typeof one.scores)[]) assert.deepEqual(two.scores[key], one.scores[key], `${model} ${key}`);
    assert.ok(one.scores.epistemic.some((v) => v > 0), 'non-trivial scores');
  }
  await assert.rejects(rerankFeatures(phi, dim, labelled, y.slice(0, 60), pool, 3, { workers: 0 }), /workers must be an integer/);
});
