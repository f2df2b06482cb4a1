/**
 * 'ivon': the optimiser step against Algorithm 1 of Shen et al. (2024) computed by hand, IVON
 * against the exact posterior of a 2-D Bayesian logistic regression (grid integration), and the
 * posterior on a tiny synthetic image task. One optional MNIST check (skips without ../shared).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { readMnist, sliceMnist } from '../../src-main/bdl/data/mnist.ts';
import { standardNormal, toVariable } from '../../src-main/bdl/layers/meanField.ts';
import { IVON } from '../../src-main/bdl/optim/ivon.ts';
import { ivonDefaultHessInit, IVON_DEFAULT_LEARNING_RATE, IVONPosterior } from '../../src-main/bdl/posterior/ivon.ts';
import { createPosterior, deserializePosterior } from '../../src-main/bdl/posterior/registry.ts';
import type { PosteriorOptions } from '../../src-main/bdl/posterior/types.ts';
import { deriveSeed } from '../../src-main/bdl/util/random.ts';
import { MNIST_DIR, MNIST_SKIP, mnistAvailable } from './helpers.ts';
import { bars, accuracy, assertRowsSumToOne, logisticProblem } from './methodFixtures.ts';

const base: PosteriorOptions = { method: 'ivon', imageSize: 28, channels: 1, numClasses: 2, seed: 5, mcSamples: 6 };

before(async () => {
  await initBackend('wasm');
});

describe('IVON optimiser', () => {
  test('two steps equal Algorithm 1 computed by hand', () => {
    const before = tf.memory().numTensors;
    // loss ℓ(θ) = Σ a θ²/2 + b θ, so ∇ℓ(θ) = a θ + b
    const a = [1, 2, 0.5];
    const b = [0.3, -0.1, 0.2];
    const cfg = { learningRate: 0.5, ess: 10, weightDecay: 0.1, hessInit: 0.2, beta1: 0.9, beta2: 0.8, seed: 11 };
    const theta = toVariable(tf.tensor1d([0.5, -1, 2]), true);
    const opt = new IVON(cfg);
    const at = tf.tensor1d(a);
    const bt = tf.tensor1d(b);
    const loss = () => tf.tidy(() => tf.sum(tf.add(tf.mul(0.5, tf.mul(at, tf.square(theta))), tf.mul(bt, theta))) as tf.Scalar);
    let m = [0.5, -1, 2];
    let h = [0.2, 0.2, 0.2];
    let g = [0, 0, 0];
    const { ess: lam, weightDecay: d, beta1: b1, beta2: b2 } = cfg;
    for (let t = 1; t <= 2; t++) {
      const eps = tf.tidy(() => Array.from(standardNormal([3], deriveSeed(deriveSeed(cfg.seed, t), 0)).dataSync()));
      opt.minimize(loss, false, [theta]);
      const alpha = cfg.learningRate * (cfg.hessInit + d); // the (h₀ + δ) rescaling
      const next = m.map((mi, i) => {
        const sigma = 1 / Math.sqrt(lam * (h[i] + d));
        const th = mi + sigma * eps[i];
        const gHat = a[i] * th + b[i];
        const hHat = (gHat * (th - mi)) / (sigma * sigma);
        const gi = b1 * g[i] + (1 - b1) * gHat;
        const hi = b2 * h[i] + (1 - b2) * hHat + (0.5 * (1 - b2) ** 2 * (h[i] - hHat) ** 2) / (h[i] + d);
        const gBar = gi / (1 - b1 ** t);
        return { m: mi - (alpha * (gBar + d * mi)) / (hi + d), h: hi, g: gi };
      });
      m = next.map((x) => x.m);
      h = next.map((x) => x.h);
      g = next.map((x) => x.g);
      const got = theta.dataSync();
      const gotH = opt.hessian![0].dataSync();
      for (let i = 0; i < 3; i++) {
        assert.ok(Math.abs(got[i] - m[i]) < 1e-5 * Math.max(1, Math.abs(m[i])), `step ${t} m[${i}] ${got[i]} vs ${m[i]}`);
        assert.ok(Math.abs(gotH[i] - h[i]) < 1e-4 * Math.max(1, Math.abs(h[i])), `step ${t} h[${i}] ${gotH[i]} vs ${h[i]}`);
      }
    }
    assert.equal(opt.step, 2);
    opt.dispose();
    tf.dispose([theta, at, bt]);
    assert.equal(tf.memory().numTensors, before);
  });

  test('matches the exact posterior of a Bayesian logistic regression (grid integration)', () => {
    const before = tf.memory().numTensors;
    const { X, Y, n, tau, mean, variance } = logisticProblem();
    // M = 64 independent IVON runs at once: W [M, 2], loss = Σ_runs mean NLL (each run gets its
    // own gradient and Hessian estimate). λ = N, δ = τ/N (prior N(0, 1/τ)), h₀ = 0.1, α = 0.2 with
    // cosine decay over 500 steps. β₂ = 0.99 instead of the paper's 0.99999: the algorithm is the
    // same, but 0.99999 averages h over ~10⁵ steps, far more than this test can run.
    const M = 64;
    const T = 500;
    const Xt = tf.tensor2d(X, [n, 2]);
    const Yt = tf.tensor1d(Y);
    const W = toVariable(tf.zeros([M, 2]), true);
    const opt = new IVON({ learningRate: 0.2, ess: n, weightDecay: tau / n, hessInit: 0.1, beta2: 0.99, lrSchedule: (t) => 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / T)), seed: 1 });
    for (let s = 0; s < T; s++) {
      opt.minimize(
        () =>
          tf.tidy(() => {
            const f = tf.matMul(W, Xt, false, true);
            return tf.mul(M, tf.mean(tf.sub(tf.softplus(f), tf.mul(Yt, f)))) as tf.Scalar;
          }),
        false,
        [W],
      );
    }
    const mV = W.dataSync();
    const hV = opt.hessian![0].dataSync();
    for (const j of [0, 1]) {
      let m = 0;
      let v = 0;
      for (let r = 0; r < M; r++) {
        m += mV[2 * r + j] / M;
        v += 1 / (n * (hV[2 * r + j] + tau / n)) / M; // σ² = 1/(λ(h + δ))
      }
      const sd = Math.sqrt(variance[j]);
      // Tolerances: mean within 0.1 posterior sd (measured ≤ 0.03); variance within [0.8, 1.1] ×
      // the exact marginal variance (measured 0.93; IVON's q is mean-field, which under-estimates it).
      assert.ok(Math.abs(m - mean[j]) < 0.1 * sd, `w${j}: IVON mean ${m} vs exact ${mean[j]} (sd ${sd})`);
      assert.ok(v / variance[j] > 0.8 && v / variance[j] < 1.1, `w${j}: IVON variance ${v} vs exact ${variance[j]}`);
    }
    opt.dispose();
    tf.dispose([Xt, Yt, W]);
    assert.equal(tf.memory().numTensors, before);
  });

  test('default h₀: the paper’s 0.1 for large λ, raised so that the initial σ ≤ 0.02 for small λ', () => {
    assert.equal(ivonDefaultHessInit(1e6), 0.1);
    assert.equal(ivonDefaultHessInit(40), 62.5);
    for (const lam of [10, 40, 1000, 25_000, 1e5]) assert.ok(1 / Math.sqrt(lam * ivonDefaultHessInit(lam)) <= 0.02 + 1e-12);
  });
});

describe("'ivon' posterior", () => {
  const train = bars(40, 1);
  const held = bars(40, 2);

  test('learns a tiny image task; samples and mean predictives, serialisation, no leaks', async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior(base) as IVONPosterior;
    assert.ok(post instanceof IVONPosterior);
    const report = await post.fit(train.x, train.y, { epochs: 4, batchSize: 10 });
    assert.equal(report.learningRate, IVON_DEFAULT_LEARNING_RATE);
    assert.deepEqual(post.ivonState, { ess: 40, weightDecay: 1e-4, hessInit: 62.5, steps: 16 });
    const p = await post.predictiveSamples(held.x, { seed: 3 });
    assert.deepEqual(p.shape, [6, 40, 2]);
    assertRowsSumToOne(p);
    assert.ok(accuracy(p, held.y) >= 0.75, `accuracy ${accuracy(p, held.y)}`);
    assert.notDeepEqual(Array.from(p.probs.subarray(0, 80)), Array.from(p.probs.subarray(80, 160)));
    // every weight has a σ, all finite and positive
    const sig = post.sigmas()!;
    assert.equal(sig.length, 8);
    for (const s of sig) for (const v of s.dataSync()) assert.ok(v > 0 && Number.isFinite(v));
    tf.dispose(sig);

    const s = await post.serialize();
    const back = await deserializePosterior({ json: JSON.parse(JSON.stringify(s.json)), weights: s.weights.slice(0) });
    assert.ok(back instanceof IVONPosterior);
    assert.deepEqual((await back.predictiveSamples(held.x, { seed: 3 })).probs, p.probs);
    back.dispose();

    // consistent draws: the same weights for every image, whatever the batching
    const c1 = await post.predictiveSamples(held.x, { consistentMasks: true, batchSize: 16, samples: 3 });
    const c2 = await post.predictiveSamples(held.x, { consistentMasks: true, batchSize: 40, samples: 3 });
    for (let i = 0; i < c1.probs.length; i++) assert.ok(Math.abs(c1.probs[i] - c2.probs[i]) < 1e-5);
    post.dispose();

    // IVON@mean of the same fit (its serialisation with ivonPredict 'mean'): S = 1, the network at m
    const mean = await deserializePosterior({ json: { ...s.json, options: { ...s.json.options, ivonPredict: 'mean' } }, weights: s.weights });
    const q = await mean.predictiveSamples(held.x);
    assert.deepEqual(q.shape, [1, 40, 2]);
    assertRowsSumToOne(q);
    assert.ok(accuracy(q, held.y) >= 0.75);
    mean.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  test('refuses invalid combinations', async () => {
    const bad: [Partial<PosteriorOptions>, RegExp][] = [
      [{ hessianStructure: 'kron' }, /hessianStructure is not applicable to method 'ivon'/],
      [{ subsetOfWeights: 'last-layer' }, /subsetOfWeights 'last-layer' is not supported for method 'ivon'/],
      [{ prior: 'laplace' }, /prior 'laplace' is not supported for method 'ivon'/],
      [{ ivonPredict: 'median' as never }, /ivonPredict must be 'mean' or 'samples'/],
      [{ ivonEss: 0 }, /ivonEss \(λ\) must be a finite number > 0/],
      [{ ivonHessInit: -1 }, /ivonHessInit \(h₀\) must be a finite number > 0/],
      [{ sgldSamples: 5 }, /sgldSamples is an option of method 'sgld', not applicable to method 'ivon'/],
    ];
    for (const [patch, re] of bad) assert.throws(() => createPosterior({ ...base, ...patch }), re);
    const post = createPosterior(base);
    await assert.rejects(post.fit(train.x, train.y, { epochs: 1, weightDecay: 0 }), /weightDecay \(δ, the prior\) must be > 0/);
    post.dispose();
  });

  test('MNIST (optional): beats chance by far after a short fit', async (t) => {
    if (!mnistAvailable()) return t.skip(MNIST_SKIP);
    const m = readMnist(MNIST_DIR);
    // 400 training digits, 8 epochs (104 steps: with dropout on, 4 epochs leave it at ~0.66), 300 held-out digits, S = 4
    const train = sliceMnist(m, 0, 400);
    const held = sliceMnist(m, 8000, 8300);
    const post = createPosterior({ method: 'ivon', imageSize: 28, channels: 1, numClasses: 10, seed: 1, mcSamples: 4 });
    await post.fit(train.images, train.labels, { epochs: 8, batchSize: 32 });
    const acc = accuracy(await post.predictiveSamples(held.images), held.labels);
    post.dispose();
    // chance is 0.1; measured 0.86 with S = 20
    assert.ok(acc > 0.7, `MNIST accuracy ${acc} (chance 0.1)`);
  });
});
