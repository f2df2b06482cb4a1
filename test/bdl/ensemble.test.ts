/**
 * 'ensemble': K members from different seeds, S = K, serialisation of every member, and the
 * parallel (worker threads) path against the sequential one for the same seeds.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { EnsemblePosterior } from '../../src-main/bdl/posterior/ensemble.ts';
import { createPosterior, deserializePosterior } from '../../src-main/bdl/posterior/registry.ts';
import type { FitProgress, PosteriorOptions } from '../../src-main/bdl/posterior/types.ts';
import { bars, accuracy, assertRowsSumToOne } from './methodFixtures.ts';

const base: PosteriorOptions = { method: 'ensemble', imageSize: 28, channels: 1, numClasses: 2, seed: 5, ensembleSize: 3 };
const fitOptions = { epochs: 3, batchSize: 10 };

before(async () => {
  await initBackend('wasm');
});

describe("'ensemble' posterior", () => {
  const train = bars(40, 1);
  const held = bars(40, 2);
  /** Predictions of the sequential K = 3 fit, compared with the parallel K = 2 fit below. */
  let sequential: Float32Array | null = null;

  test('sequential fit: members differ, S = K, serialisation of every member, no leaks', async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior(base) as EnsemblePosterior;
    assert.ok(post instanceof EnsemblePosterior);
    assert.equal(post.size, 3);
    const fractions: number[] = [];
    const report = await post.fit(train.x, train.y, { ...fitOptions, workers: 0, onProgress: (q: FitProgress) => fractions.push(q.fraction) });
    assert.equal(report.method, 'ensemble');
    assert.equal(post.lastEnsembleFit?.parallelMembers, 0);
    assert.equal(post.lastEnsembleFit?.members.length, 3);
    assert.equal(fractions.length, 3 * 3 * 4);
    assert.ok(Math.abs(fractions[fractions.length - 1] - 1) < 1e-12);

    const p = await post.predictiveSamples(held.x);
    assert.deepEqual(p.shape, [3, 40, 2]);
    assertRowsSumToOne(p);
    assert.ok(accuracy(p, held.y) >= 0.75, `accuracy ${accuracy(p, held.y)}`);
    // members differ: weights and predictions
    const w = [0, 1, 2].map((k) => post.member(k).model.getWeights()[0].dataSync().slice(0, 50));
    assert.notDeepEqual(w[0], w[1]);
    assert.notDeepEqual(w[1], w[2]);
    const per = (s: number) => Array.from(p.probs.subarray(s * 80, (s + 1) * 80));
    assert.notDeepEqual(per(0), per(1));
    assert.notDeepEqual(per(1), per(2));
    // deterministic members: no seed dependence; fewer samples = the first members; at most K
    assert.deepEqual((await post.predictiveSamples(held.x, { seed: 99 })).probs, p.probs);
    assert.deepEqual((await post.predictiveSamples(held.x, { samples: 2 })).probs, p.probs.subarray(0, 160));
    await assert.rejects(post.predictiveSamples(held.x, { samples: 4 }), /4 samples requested but the ensemble has 3 members/);
    sequential = p.probs;

    const s = await post.serialize();
    const back = await deserializePosterior({ json: JSON.parse(JSON.stringify(s.json)), weights: s.weights.slice(0) });
    assert.ok(back instanceof EnsemblePosterior);
    assert.deepEqual((await back.predictiveSamples(held.x)).probs, p.probs);
    assert.equal(back.lastFit?.method, 'ensemble');
    back.dispose();
    post.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  test('parallel fit in worker threads gives the same members as the sequential fit', async () => {
    assert.ok(sequential, 'runs after the sequential test');
    const before = tf.memory().numTensors;
    // Member k depends only on (seed, k) and the fit options, not on K: this K = 2 ensemble has the
    // first two members of the K = 3 one above.
    const post = createPosterior({ ...base, ensembleSize: 2 }) as EnsemblePosterior;
    const fractions: number[] = [];
    await post.fit(train.x, train.y, { ...fitOptions, workers: 2, onProgress: (q: FitProgress) => fractions.push(q.fraction) });
    const info = post.lastEnsembleFit!;
    assert.equal(info.fallback, undefined, `fell back to sequential: ${info.fallback}`);
    assert.equal(info.parallelMembers, 2);
    assert.equal(info.workers, 2);
    assert.ok(fractions.length > 0 && Math.abs(Math.max(...fractions) - 1) < 1e-12);
    const p = await post.predictiveSamples(held.x);
    assert.deepEqual(p.shape, [2, 40, 2]);
    // Same seeds → same members. Tolerance 1e-4 on probabilities: the workers run wasm with one
    // XNNPACK thread each, this thread with its own pool (summation order may differ).
    let maxDiff = 0;
    for (let i = 0; i < p.probs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p.probs[i] - sequential![i]));
    assert.ok(maxDiff < 1e-4, `parallel vs sequential: max |Δp| = ${maxDiff}`);
    post.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  test('refuses invalid combinations', () => {
    const bad: [Partial<PosteriorOptions>, RegExp][] = [
      [{ hessianStructure: 'diag' }, /hessianStructure is not applicable to method 'ensemble'/],
      [{ subsetOfWeights: 'last-layer' }, /subsetOfWeights is not applicable to method 'ensemble'/],
      [{ ensembleSize: 0 }, /ensembleSize must be a positive integer/],
      [{ ensembleSize: 2.5 }, /ensembleSize must be a positive integer/],
      [{ sgldTemperature: 0.5 }, /sgldTemperature is an option of method 'sgld', not applicable to method 'ensemble'/],
    ];
    for (const [patch, re] of bad) assert.throws(() => createPosterior({ ...base, ...patch }), re);
    assert.throws(() => createPosterior({ ...base, method: 'map', ensembleSize: 3 }), /ensembleSize is an option of method 'ensemble', not applicable to method 'map'/);
  });
});
