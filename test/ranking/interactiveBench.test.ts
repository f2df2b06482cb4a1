/** The interactive-path benchmarks run on tiny sizes and give well-formed results (no timing asserted). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryRounds } from '../../src-main/bench/memoryRounds.ts';
import { interactiveRerankBench, poolRankBench } from '../../src-main/bench/rerankBench.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { bars } from '../bdl/methodFixtures.ts';

test('re-rank and pool-ranking benchmarks on small synthetic features', async () => {
  const rand = mulberry32(4);
  const dim = 8;
  const labels = Int32Array.from({ length: 300 }, (_, i) => i % 3);
  const phi = Float32Array.from({ length: 300 * dim }, (_, k) => Math.max(0, (labels[Math.floor(k / dim)] === k % 3 ? 2 : 0) + rand() - 0.5));
  const r = await interactiveRerankBench(phi, dim, labels, { labelled: 60, newLabels: 5, poolEnd: 300, numClasses: 3 });
  assert.equal(r.labelled, 65);
  assert.equal(r.scored, 235);
  for (const v of [r.seconds, r.fitSeconds, r.scoreSeconds, r.maxStallMs]) assert.ok(Number.isFinite(v) && v >= 0);
  const p = await poolRankBench(phi, dim, labels, { labelled: 60, poolSize: 1000, numClasses: 3 });
  assert.equal(p.scored, 1000);
  assert.ok(p.rankSeconds >= p.sortSeconds && p.seconds >= p.fitSeconds);
});

test('memory rounds: one entry per round and a verdict', { timeout: 600_000 }, async () => {
  const train = bars(16, 1);
  const pool = bars(24, 2);
  const seen: number[] = [];
  const m = await memoryRounds({ rounds: 3, epochs: 1, imageSize: 28, numClasses: 2, trainX: train.x, trainY: train.y, poolX: pool.x }, (r) => seen.push(r.round));
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(m.rounds.map((r) => r.round), [1, 2, 3]);
  for (const r of m.rounds) assert.ok(r.rssMb > 0 && Number.isInteger(r.numTensors) && r.numTensors >= 0);
  assert.ok(m.verdict === 'flat' || m.verdict === 'growing');
  assert.equal(m.verdict === 'flat', m.tensorsConstant && m.rssGrowthMb < 32);
});
