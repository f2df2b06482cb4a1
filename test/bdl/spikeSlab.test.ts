import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { createPosterior } from '../../src-main/bdl/posterior/registry.ts';
import { inclusionProbabilities, spikeSlabPenalty, spikeSlabProx } from '../../src-main/bdl/posterior/spikeSlab.ts';
import { channelBars } from './methodFixtures.ts';
import { noLeak, randomArray } from './helpers.ts';

await initBackend('wasm');
const SHAPE: [number, number, number, number] = [2, 2, 3, 8]; // 3 input channels of d = 2·2·8 weights

/** A kernel whose rows j (tap t = j div 3, channel c = j mod 3) have norm ≈ `rowScale(t, c)`. */
function kernel(rowScale: (t: number, c: number) => number, seed = 1): tf.Tensor4D {
  const v = randomArray(2 * 2 * 3 * 8, seed);
  for (let j = 0; j < 12; j++) for (let o = 0; o < 8; o++) v[j * 8 + o] *= rowScale(Math.floor(j / 3), j % 3);
  return tf.tensor4d(v, SHAPE);
}

test('spike-slab: γ is ~1 for channels of typical size, ~0 for a channel near zero; no leak', async () => {
  const k = kernel((_t, c) => (c === 1 ? 1e-3 : 1));
  const { value: r, leaked } = await noLeak(() => inclusionProbabilities(k));
  assert.equal(leaked, 0);
  assert.deepEqual(r.inputShape, [2, 2, 3]);
  assert.equal(r.perChannel.length, 3);
  assert.ok(r.perChannel[1] < 0.01 && r.perChannel[0] > 0.99 && r.perChannel[2] > 0.99, `${r.perChannel}`);
  k.dispose();
});

test('spike-slab: the penalty is ≥ 0, invariant to rescaling the layer, and its gradient is orthogonal to the kernel', () => {
  const k = kernel((t, c) => 0.2 + c + 0.1 * t, 3);
  const [p, p10] = tf.tidy(() => [spikeSlabPenalty(k).dataSync()[0], spikeSlabPenalty(tf.mul(k, 10)).dataSync()[0]]);
  assert.ok(p > 0, `penalty ${p}`);
  assert.ok(Math.abs(p - p10) < 1e-3 * Math.abs(p), `${p} vs ${p10} after ×10`);
  const dot = tf.tidy(() => tf.sum(tf.mul(tf.grad((w: tf.Tensor) => spikeSlabPenalty(w))(k), k)).dataSync()[0]);
  const gnorm = tf.tidy(() => tf.norm(tf.grad((w: tf.Tensor) => spikeSlabPenalty(w))(k)).dataSync()[0]);
  assert.ok(gnorm > 0 && Math.abs(dot) < 1e-3 * gnorm * tf.tidy(() => tf.norm(k).dataSync()[0]), `⟨∇, w⟩ = ${dot}, ‖∇‖ = ${gnorm}`);
  // Sparser is cheaper at equal total size: moving a channel's weight to others lowers the penalty.
  const sparse = kernel((_t, c) => (c === 0 ? 0 : 1), 3);
  const dense = kernel(() => 1, 3);
  const [ps, pd] = tf.tidy(() => [spikeSlabPenalty(sparse).dataSync()[0], spikeSlabPenalty(dense).dataSync()[0]]);
  assert.ok(ps < pd, `sparse ${ps} ≥ dense ${pd}`);
  tf.dispose([k, sparse, dense]);
});

test('spike-slab: the proximal step zeroes a small channel, keeps the layer norm, lowers the penalty; tiny steps change nothing', () => {
  const k = tf.variable(kernel((_t, c) => (c === 1 ? 0.05 : 1), 4));
  const tiny = tf.variable(k.clone());
  try {
    const before = tf.tidy(() => [tf.norm(k).dataSync()[0], spikeSlabPenalty(k).dataSync()[0]]);
    const tensors = tf.memory().numTensors;
    spikeSlabProx(k, [0.05, 0.05, 0.05], 1);
    assert.equal(tf.memory().numTensors, tensors, 'the proximal step leaked tensors');
    const [norm, pen] = tf.tidy(() => [tf.norm(k).dataSync()[0], spikeSlabPenalty(k).dataSync()[0]]);
    const perChannel = tf.tidy(() => Array.from(tf.sum(tf.abs(k), [0, 1, 3]).dataSync()));
    assert.equal(perChannel[1], 0, `channel 1 not zeroed: ${perChannel}`);
    assert.ok(perChannel[0] > 0 && perChannel[2] > 0, `${perChannel}`);
    assert.ok(Math.abs(norm - before[0]) < 1e-4 * before[0], `norm ${before[0]} → ${norm}`);
    assert.ok(pen < before[1], `penalty ${before[1]} → ${pen}`);
    spikeSlabProx(tiny, [1e-9, 1e-9, 1e-9], 100);
    const change = tf.tidy(() => tf.max(tf.abs(tf.sub(tiny, kernel((_t, c) => (c === 1 ? 0.05 : 1), 4)))).dataSync()[0]);
    assert.ok(change < 1e-6, `tiny step moved the kernel by ${change}`);
    assert.throws(() => spikeSlabProx(k, [1, 1], 1), /2 step sizes for 3 channels/);
  } finally {
    tf.dispose([k, tiny]);
  }
});

test('spike-slab: map fit reports inclusion probabilities; methods without it refuse it clearly', async () => {
  const { x, y } = channelBars(64, 7, 0);
  const p = createPosterior({ method: 'map', prior: 'spike-slab', imageSize: 28, channels: 3, numClasses: 2, seed: 1 });
  try {
    const r = await p.fit(x, y, { epochs: 2, batchSize: 32 });
    assert.equal(r.penalty, 'spike-slab');
    assert.ok(r.inclusion, 'no inclusion report');
    assert.deepEqual(r.inclusion.inputShape, [4, 4, 3]);
    assert.equal(r.inclusion.perChannel.length, 3);
    assert.ok(r.inclusion.perChannel.every((g) => g >= 0 && g <= 1));
    assert.ok(r.lossHistory.every(Number.isFinite));
    const s = await p.serialize();
    assert.equal(s.json.fitReport?.inclusion?.perChannel.length, 3);
  } finally {
    p.dispose();
  }
  assert.throws(
    () => createPosterior({ method: 'map', prior: 'spike-slab', imageSize: 28, channels: 1, numClasses: 2 }),
    /prior 'spike-slab' selects among the input channels and needs at least 2 \(got 1\)/,
  );
  for (const method of ['vi', 'ivon', 'laplace', 'sgld'] as const) {
    assert.throws(() => createPosterior({ method, prior: 'spike-slab', imageSize: 28, channels: 1, numClasses: 2 }), new RegExp(`prior 'spike-slab' is not supported for method '${method}'`));
  }
});
