import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import {
  CancelledError,
  createPosterior,
  deserializePosterior,
  MapPosterior,
  MCDropoutPosterior,
  methodRegistry,
  Posterior,
  type PosteriorOptions,
} from '../../src-main/bdl/posterior/index.ts';
import { bald } from '../../src-main/bdl/acquisition/index.ts';
import { gaussianPenalty } from '../../src-main/bdl/posterior/base.ts';
import { bars } from './methodFixtures.ts';

const base: PosteriorOptions = { method: 'mc-dropout', imageSize: 28, channels: 1, numClasses: 2, seed: 3 };

before(async () => {
  await initBackend('wasm');
});

describe('createPosterior', () => {
  test('creates the registered methods', () => {
    const a = createPosterior({ ...base, method: 'map' });
    const b = createPosterior(base);
    assert.ok(a instanceof MapPosterior && a instanceof Posterior);
    assert.ok(b instanceof MCDropoutPosterior);
    assert.equal(a.method, 'map');
    assert.equal(b.method, 'mc-dropout');
    a.dispose();
    b.dispose();
    // more methods are registered as they are added; these two are the base ones
    for (const m of ['map', 'mc-dropout'] as const) assert.equal(methodRegistry[m].method, m);
  });

  test('refuses invalid combinations with clear errors', () => {
    const bad: [Partial<PosteriorOptions> & Record<string, unknown>, RegExp][] = [
      [{ method: 'laplacian' as never }, /Unknown method 'laplacian'\. Known methods: map, mc-dropout/],
      [{ hessianStructure: 'kron' }, /hessianStructure is not applicable to method 'mc-dropout'/],
      [{ method: 'map', hessianStructure: 'diag' }, /hessianStructure is not applicable to method 'map'/],
      [{ method: 'map', subsetOfWeights: 'last-layer' }, /subsetOfWeights is not applicable to method 'map'/],
      [{ subsetOfWeights: 'everything' as never }, /subsetOfWeights 'everything' is not supported for method 'mc-dropout'/],
      [{ method: 'vi', prior: 'spike-slab' }, /prior 'spike-slab' is not supported for method 'vi' yet \(supported: gaussian\)/],
      [{ method: 'laplace', prior: 'laplace' }, /prior 'laplace' is not supported for method 'laplace' yet/],
      [{ priorPrecision: -1 }, /priorPrecision must be a finite number > 0/],
      [{ mcSamples: 0 }, /mcSamples must be a positive integer/],
      [{ seed: 1.5 }, /seed must be an integer/],
      [{ imageSize: 32 }, /imageSize must be one of 28, 64, 128, 224/],
      [{ channels: 4 }, /channels must be 1 or 3/],
      [{ numClasses: 1 }, /numClasses must be an integer ≥ 2/],
    ];
    for (const [patch, re] of bad) {
      assert.throws(() => createPosterior({ ...base, ...patch } as PosteriorOptions), re, JSON.stringify(patch));
    }
  });

  test('accepts the documented options', () => {
    const ok: Partial<PosteriorOptions>[] = [
      { subsetOfWeights: 'all' },
      { subsetOfWeights: 'last-layer', mcSamples: 5 },
      { prior: 'laplace', priorPrecision: 10 },
      { method: 'map', prior: 'gaussian', priorPrecision: 1, mcSamples: 20 /* ignored by map */ },
    ];
    for (const patch of ok) createPosterior({ ...base, ...patch }).dispose();
  });
});

describe('fit and predictive', () => {
  const train = bars(96, 1);
  const test_ = bars(40, 2);

  test('mc-dropout learns an easy task; progress, shapes, probabilities, no leaks', async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior({ ...base, mcSamples: 8 });
    const progress: number[] = [];
    const report = await post.fit(train.x, train.y, {
      epochs: 3,
      batchSize: 16,
      onProgress: (p) => {
        progress.push(p.fraction);
        assert.ok(p.epoch >= 1 && p.epoch <= 3 && p.batch >= 1 && p.batch <= p.batches && Number.isFinite(p.loss));
      },
    });
    assert.equal(progress.length, 3 * 6);
    assert.equal(progress[progress.length - 1], 1);
    assert.equal(report.batches, 6);
    assert.equal(report.lossHistory.length, 3);
    assert.ok(report.lossHistory[2] < report.lossHistory[0], `loss ${report.lossHistory.join(' → ')}`);
    assert.equal(report.weightDecay, 1e-4);
    assert.equal(report.penalty, 'l2');

    const fractions: number[] = [];
    const p = await post.predictiveSamples(test_.x, { batchSize: 16, onProgress: (q) => fractions.push(q.fraction) });
    assert.deepEqual(p.shape, [8, 40, 2]);
    assert.deepEqual(fractions, [16 / 40, 32 / 40, 1]);
    for (let i = 0; i < 8 * 40; i++) assert.ok(Math.abs(p.probs[2 * i] + p.probs[2 * i + 1] - 1) < 1e-5);
    let correct = 0;
    for (let n = 0; n < 40; n++) {
      let m0 = 0;
      for (let s = 0; s < 8; s++) m0 += p.probs[(s * 40 + n) * 2];
      if ((m0 / 8 > 0.5 ? 0 : 1) === test_.y[n]) correct++;
    }
    assert.ok(correct >= 36, `accuracy ${correct}/40`);
    // MC samples differ (dropout is on), and BALD is finite and ≥ 0
    assert.notDeepEqual(Array.from(p.probs.subarray(0, 80)), Array.from(p.probs.subarray(80, 160)));
    for (const v of bald.score(p)) assert.ok(v >= 0 && Number.isFinite(v));

    // reproducible for a given seed; different seed → different samples
    const again = await post.predictiveSamples(test_.x, { batchSize: 16 });
    assert.deepEqual(again.probs, p.probs);
    const other = await post.predictiveSamples(test_.x, { batchSize: 16, seed: 1234 });
    assert.notDeepEqual(other.probs, p.probs);
    // S override and features
    assert.deepEqual((await post.predictiveSamples(test_.x.subarray(0, 784 * 3), { samples: 50 })).shape, [50, 3, 2]);
    const f = await post.features(test_.x.subarray(0, 784 * 5));
    assert.deepEqual(f.shape, [5, 128]);
    post.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked by fit/predict');
    await assert.rejects(post.predictiveSamples(test_.x), /disposed/);
  });

  test('map: S = 1, deterministic; last-layer mc-dropout works', async () => {
    const before = tf.memory().numTensors;
    const map = createPosterior({ ...base, method: 'map' });
    await map.fit(train.x, train.y, { epochs: 1, batchSize: 32 });
    const p = await map.predictiveSamples(test_.x);
    assert.deepEqual(p.shape, [1, 40, 2]);
    assert.deepEqual((await map.predictiveSamples(test_.x, { seed: 9 })).probs, p.probs);
    map.dispose();
    const ll = createPosterior({ ...base, subsetOfWeights: 'last-layer', mcSamples: 4 });
    await ll.fit(train.x, train.y, { epochs: 1, batchSize: 32 });
    const q = await ll.predictiveSamples(test_.x);
    assert.deepEqual(q.shape, [4, 40, 2]);
    ll.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('priorPrecision sets the penalty: τ/N (gaussian), √(2τ)/N (laplace → L1)', async () => {
    const small = bars(10, 5);
    const g = createPosterior({ ...base, priorPrecision: 20 });
    assert.equal((await g.fit(small.x, small.y, { epochs: 1 })).weightDecay, 2);
    g.dispose();
    const l = createPosterior({ ...base, prior: 'laplace', priorPrecision: 50 });
    const r = await l.fit(small.x, small.y, { epochs: 1 });
    assert.equal(r.weightDecay, 1);
    assert.equal(r.penalty, 'l1');
    l.dispose();
  });

  test('shouldStop cancels with CancelledError and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior(base);
    let calls = 0;
    await assert.rejects(
      post.fit(train.x, train.y, { epochs: 5, batchSize: 16, shouldStop: () => ++calls > 3 }),
      (e: unknown) => e instanceof CancelledError && e.name === 'CancelledError',
    );
    assert.equal(calls, 4);
    await assert.rejects(post.predictiveSamples(test_.x, { shouldStop: () => true }), CancelledError);
    post.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('input validation', async () => {
    const post = createPosterior(base);
    await assert.rejects(post.fit(new Uint8Array(100), new Int32Array(1)), /not a multiple of H·W·C/);
    await assert.rejects(post.fit(train.x, new Int32Array(3)), /96 images but 3 labels/);
    await assert.rejects(post.fit(train.x.subarray(0, 784), Int32Array.from([2])), /not in \[0, 2\)/);
    await assert.rejects(post.fit(new Uint8Array(0), new Int32Array(0)), /no training examples/);
    await assert.rejects(post.fit(train.x, train.y, { epochs: 0 }), /epochs/);
    const empty = await post.predictiveSamples(new Uint8Array(0));
    assert.deepEqual(empty.shape, [20, 0, 2]);
    post.dispose();
  });
});

describe('serialization', () => {
  test('serialize → plain JSON + ArrayBuffer → deserialize gives the same predictive', async () => {
    const before = tf.memory().numTensors;
    const data = bars(32, 7);
    const post = createPosterior({ ...base, mcSamples: 5, seed: 11 });
    await post.fit(data.x, data.y, { epochs: 1, batchSize: 16 });
    const p1 = await post.predictiveSamples(data.x);
    const s = await post.serialize();
    assert.ok(s.weights instanceof ArrayBuffer);
    assert.equal(s.json.method, 'mc-dropout');
    // survives a JSON round trip (what the caller writes to disk)
    const json = JSON.parse(JSON.stringify(s.json));
    const weights = s.weights.slice(0);
    post.dispose();
    const back = await Posterior.deserialize({ json, weights });
    assert.ok(back instanceof MCDropoutPosterior);
    assert.deepEqual(back.options, { ...base, mcSamples: 5, seed: 11 });
    assert.equal(back.lastFit?.epochs, 1);
    const p2 = await back.predictiveSamples(data.x);
    assert.deepEqual(p2.probs, p1.probs);
    back.dispose();
    assert.equal(tf.memory().numTensors, before);
    const map = createPosterior({ ...base, method: 'map' });
    const sm = await map.serialize();
    map.dispose();
    const m2 = await deserializePosterior(sm);
    assert.ok(m2 instanceof MapPosterior);
    m2.dispose();
    await assert.rejects(Posterior.deserialize({ json: { ...json, format: 'x' }, weights }), /not a serialised posterior/);
  });
});

describe('gaussianPenalty', () => {
  test('value and gradient equal autodiff of (c/2)·Σ‖v‖²', async () => {
    const before = tf.memory().numTensors;
    const vs = tf.tidy(() => [tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 1)), tf.variable(tf.randomNormal([4], 0, 1, 'float32', 2))]);
    const c = 0.37;
    const ours = tf.variableGrads(() => tf.mul(gaussianPenalty(vs, c), 3) as tf.Scalar, vs);
    const auto = tf.variableGrads(() => tf.mul(tf.mul(tf.addN(vs.map((v) => tf.sum(tf.square(v)))), c / 2), 3) as tf.Scalar, vs);
    assert.ok(Math.abs((await ours.value.data())[0] - (await auto.value.data())[0]) < 1e-5);
    for (const v of vs) {
      const a = await ours.grads[v.name].data();
      const b = await auto.grads[v.name].data();
      assert.ok(a.every((x, i) => Math.abs(x - b[i]) < 1e-5), `gradient of ${v.name}`);
    }
    tf.dispose([ours.value, auto.value, ...Object.values(ours.grads), ...Object.values(auto.grads), ...vs]);
    assert.equal(tf.memory().numTensors, before);
  });
});
