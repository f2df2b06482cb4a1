import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { ConvNet } from '../../src-main/bdl/models/convNet.ts';
import { buildGalCnn } from '../../src-main/bdl/models/galCnn.ts';
import { dropoutMask } from '../../src-main/bdl/models/mcDropout.ts';
import { deriveSeed } from '../../src-main/bdl/util/random.ts';
import { randomArray, relErr } from './helpers.ts';

before(async () => {
  await initBackend('wasm');
});

test('architecture of Gal et al. 2017 at 28×28×1: shapes and parameter count', () => {
  const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 10, seed: 1 });
  try {
    const names = net.model.layers.map((l) => l.name);
    assert.deepEqual(names, ['conv1', 'conv2', 'pool', 'dropout1', 'flatten', 'dense1', 'dropout2', 'logits']);
    // conv1 4·4·1·32+32, conv2 4·4·32·32+32, dense1 3872·128+128, logits 128·10+10
    assert.equal(net.model.countParams(), 544 + 16416 + 495744 + 1290);
    assert.equal(net.featureDim, 128);
    assert.deepEqual(net.inputShape, [28, 28, 1]);
    tf.tidy(() => {
      const x = tf.zeros([3, 28, 28, 1]) as tf.Tensor4D;
      const h = net.trunk(x);
      assert.deepEqual(h.shape, [3, 11, 11, 32]);
      assert.deepEqual(net.penultimate(h).shape, [3, 128]);
      assert.deepEqual(net.head(h).shape, [3, 10]);
      assert.deepEqual(net.head(h, { dropout: 'all', seed: 1, samples: 4 }).shape, [12, 10]);
      assert.deepEqual(net.head(h, { dropout: 'last-layer', seed: 1, samples: 5 }).shape, [15, 10]);
    });
  } finally {
    net.dispose();
  }
});

test('64×64×3 input builds with the right trunk shape', () => {
  const net = ConvNet.create({ imageSize: 64, channels: 3, numClasses: 4 });
  try {
    tf.tidy(() => {
      const h = net.trunk(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D);
      assert.deepEqual(h.shape, [1, 29, 29, 32]);
      assert.deepEqual(net.logits(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D).shape, [1, 4]);
    });
  } finally {
    net.dispose();
  }
});

test('rejects unsupported sizes and channels', () => {
  assert.throws(() => buildGalCnn({ imageSize: 32, channels: 1, numClasses: 10 }), /imageSize must be one of 28, 64, 128, 224/);
  assert.throws(() => buildGalCnn({ imageSize: 28, channels: 2, numClasses: 10 }), /channels must be 1 or 3/);
  assert.throws(() => buildGalCnn({ imageSize: 28, channels: 1, numClasses: 1 }), /numClasses/);
});

test('seeded initialisation: same seed same weights, other seed other weights', async () => {
  const w = async (seed: number) => {
    const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 10, seed });
    const v = await net.model.getLayer('conv2').getWeights()[0].data();
    net.dispose();
    return v;
  };
  const a = await w(5);
  const b = await w(5);
  const c = await w(6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('trunk + head (dropout off) = the whole Keras model; leaks nothing', async () => {
  const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 10, seed: 2 });
  const x = tf.tensor4d(randomArray(5 * 784, 1, 0, 1), [5, 28, 28, 1]);
  try {
    const before = tf.memory().numTensors;
    const split = net.logits(x);
    const whole = net.model.predict(x) as tf.Tensor;
    assert.ok(relErr(await split.data(), await whole.data()) < 1e-6);
    tf.dispose([split, whole]);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    x.dispose();
    net.dispose();
  }
});

test('trunk once + expanded head = T full stochastic passes with the same masks', async () => {
  // head(h, {dropout: 'all', seed, samples: S}) draws dropout1's mask as one [S, B, …] tensor and
  // dropout2's as one [S·B, 128] tensor. Rebuild the same predictive the naive way: for each s,
  // the WHOLE network (trunk recomputed) on x with mask slice s, layer by layer.
  const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 10, seed: 4 });
  const B = 3;
  const S = 4;
  const seed = 99;
  const x = tf.tensor4d(randomArray(B * 784, 2, 0, 1), [B, 28, 28, 1]);
  try {
    const fast = tf.tidy(() => net.head(net.trunk(x), { dropout: 'all', seed, samples: S }));
    const naive = tf.tidy(() => {
      const m1 = dropoutMask([S, B, 11, 11, 32], 0.25, deriveSeed(seed, 1000)); // dropout1 = penultimate layer 0
      const m2 = dropoutMask([S * B, 128], 0.5, deriveSeed(deriveSeed(seed, 1), 1000)); // dropout2 = last layer 0
      const layer = (n: string) => net.model.getLayer(n);
      const outs: tf.Tensor[] = [];
      for (let s = 0; s < S; s++) {
        let t: tf.Tensor = x;
        for (const n of ['conv1', 'conv2', 'pool']) t = layer(n).apply(t) as tf.Tensor;
        t = tf.mul(t, tf.squeeze(tf.slice(m1, [s, 0, 0, 0, 0], [1, B, 11, 11, 32]), [0]));
        t = layer('dense1').apply(layer('flatten').apply(t)) as tf.Tensor;
        t = tf.mul(t, tf.slice(m2, [s * B, 0], [B, 128]));
        outs.push(layer('logits').apply(t) as tf.Tensor);
      }
      return tf.concat(outs, 0);
    });
    const e = relErr(await fast.data(), await naive.data());
    assert.ok(e < 1e-5, `relative error ${e}`);
    const v = (await fast.data()) as Float32Array;
    assert.notDeepEqual(Array.from(v.subarray(0, B * 10)), Array.from(v.subarray(B * 10, 2 * B * 10)), 'samples differ');
    tf.dispose([fast, naive]);
  } finally {
    x.dispose();
    net.dispose();
  }
});

test('expanded dropout: row s·B + b equals x_b ⊙ mask[s, b]', async () => {
  const x = tf.tensor2d(randomArray(2 * 6, 3, 1, 2), [2, 6]);
  const net = ConvNet.create({ imageSize: 28, channels: 1, numClasses: 2 });
  const layer = net.model.getLayer('dropout1');
  try {
    const y = layer.apply(x, { training: true, seed: 11, samples: 3 }) as tf.Tensor;
    const mask = dropoutMask([3, 2, 6], 0.25, 11);
    const expected = tf.reshape(tf.mul(mask, tf.expandDims(x, 0)), [6, 6]);
    assert.ok(relErr(await y.data(), await expected.data()) < 1e-7);
    const m = (await mask.data()) as Float32Array;
    const kept = m.filter((v) => v > 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
    tf.dispose([y, mask, expected]);
  } finally {
    x.dispose();
    net.dispose();
  }
});

test('dropout masks keep ≈ 1 − rate of the units and are seed-reproducible', async () => {
  const a = dropoutMask([100000], 0.5, 1);
  const b = dropoutMask([100000], 0.5, 1);
  const c = dropoutMask([100000], 0.3, 2); // 0.7·256 not an integer: the 32-bit path
  const av = (await a.data()) as Float32Array;
  assert.deepEqual(av, await b.data());
  const keepA = av.filter((v) => v > 0).length / av.length;
  const cv = (await c.data()) as Float32Array;
  const keepC = cv.filter((v) => v > 0).length / cv.length;
  assert.ok(Math.abs(keepA - 0.5) < 0.01, `keep ${keepA}`);
  assert.ok(Math.abs(keepC - 0.7) < 0.01, `keep ${keepC}`);
  tf.dispose([a, b, c]);
});
