/**
 * 'dkl': GP heads on the network features by Dirichlet label regression (Milios et al. 2018).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { createPosterior, deserializePosterior, type PosteriorOptions, type PredictiveSamples } from '../../src-main/bdl/posterior/index.ts';
import { DklPosterior } from '../../src-main/bdl/posterior/dkl.ts';
import { meanProbs } from '../../src-main/bdl/acquisition/base.ts';
import { bald } from '../../src-main/bdl/acquisition/index.ts';
import { dirichletGpPredict, dirichletTransform, fitDirichletGp } from '../../src-main/bdl/gp/dirichlet.ts';
import { rbfLogMarginalLikelihood } from '../../src-main/bdl/gp/exact.ts';
import { squaredDistances } from '../../src-main/bdl/gp/kernels.ts';
import { probitSoftmax } from '../../src-main/bdl/laplace/predictive.ts';
import { maxAbsDiff } from '../../src-main/bdl/linalg/dense.ts';
import { standardNormal } from '../../src-main/bdl/linalg/random.ts';
import { bars } from './methodFixtures.ts';

/** Three Gaussian blobs in 5-d. */
function blobs(n: number, seed: number) {
  const z = standardNormal(n * 5, seed);
  const y = new Int32Array(n);
  const x = new Float64Array(n * 5);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let k = 0; k < 5; k++) x[i * 5 + k] = z[i * 5 + k] + (k === y[i] ? 3 : 0);
  }
  return { x, y };
}

before(async () => {
  await initBackend('wasm');
});

describe('Dirichlet GP classification (float64)', () => {
  test('transform: log-normal moment matching of Gamma(α, 1), exp(ỹ + σ̃²/2) = α', () => {
    const { targets, noise } = dirichletTransform([0, 2, 1], 3, 0.01);
    for (let k = 0; k < 3; k++)
      for (let i = 0; i < 3; i++) {
        const alpha = ([0, 2, 1][i] === k ? 1 : 0) + 0.01;
        assert.ok(Math.abs(Math.exp(targets[k][i] + noise[k][i] / 2) - alpha) < 1e-12);
        assert.ok(Math.abs(noise[k][i] - Math.log(1 / alpha + 1)) < 1e-12);
      }
  });

  test('hyper-parameters maximise the summed marginal likelihood; classifies held-out blobs', () => {
    const train = blobs(90, 1);
    const gp = fitDirichletGp(train.x, 5, train.y, 3, { seed: 0 });
    assert.equal(gp.m, 90);
    // a (local) maximum of Σ_c log p(ỹ_c | X, σ_f², ℓ): perturbing either hyper-parameter lowers it
    const d2 = squaredDistances(gp.x, 90, gp.x, 90, 5);
    const { targets, noise } = dirichletTransform(gp.labels, 3, 0.01);
    const outputs = targets.map((t, k) => ({ y: t.map((v) => v - gp.means[k]), noise: noise[k] }));
    const lml = (sf: number, ell: number) => rbfLogMarginalLikelihood(d2, 90, outputs, { signalVariance: sf, lengthscale: ell }).value;
    const at = lml(gp.hyper.signalVariance, gp.hyper.lengthscale);
    assert.ok(Math.abs(at - gp.logMarginalLikelihood) < 1e-8);
    for (const [a, b] of [[1.3, 1], [1 / 1.3, 1], [1, 1.3], [1, 1 / 1.3]]) assert.ok(at > lml(gp.hyper.signalVariance * a, gp.hyper.lengthscale * b));
    const g = rbfLogMarginalLikelihood(d2, 90, outputs, gp.hyper, { gradient: true }).gradient;
    assert.ok(Math.abs(g[0]) < 1e-3 && Math.abs(g[1]) < 1e-3, `gradient at the optimum ${g}`);
    // held-out accuracy with the probit predictive
    const test_ = blobs(60, 2);
    const pred = dirichletGpPredict(gp, test_.x);
    const p = probitSoftmax(pred.mean, pred.variance, 60, 3);
    let ok = 0;
    for (let i = 0; i < 60; i++) {
      let best = 0;
      for (let c = 1; c < 3; c++) if (p[i * 3 + c] > p[i * 3 + best]) best = c;
      if (best === test_.y[i]) ok++;
    }
    assert.ok(ok >= 50, `accuracy ${ok}/60`);
    // far from the data the latent variances return to σ_f² and the predictive to ≈ uniform
    const far = dirichletGpPredict(gp, new Float64Array(5).fill(40));
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(far.variance[c] - gp.hyper.signalVariance) < 1e-6);
    // subset of data when N > maxPoints
    const sub = fitDirichletGp(train.x, 5, train.y, 3, { seed: 0, maxPoints: 30, hyper: gp.hyper });
    assert.equal(sub.m, 30);
  });
});

describe("the 'dkl' posterior on a tiny image task", () => {
  const base: PosteriorOptions = { method: 'dkl', imageSize: 28, channels: 1, numClasses: 2, seed: 6, mcSamples: 16 };
  const train = bars(40, 1);
  const test_ = bars(40, 2);

  test('fits above chance; latent samples → softmax [S, N, C]; tensor predictive = float64 reference; serialisation; no leaks', async () => {
    const before_ = tf.memory().numTensors;
    const post = createPosterior(base) as DklPosterior;
    await assert.rejects(post.predictiveSamples(test_.x), /call fit first/);
    await post.fit(train.x, train.y, { epochs: 3, batchSize: 16 });
    const sum = post.summary!;
    assert.equal(sum.points, 40);
    assert.ok(sum.lengthscale > 0 && sum.signalVariance > 0);
    const p: PredictiveSamples = await post.predictiveSamples(test_.x);
    assert.deepEqual(p.shape, [16, 40, 2]);
    for (let i = 0; i < 16 * 40; i++) assert.ok(Math.abs(p.probs[2 * i] + p.probs[2 * i + 1] - 1) < 1e-5);
    const m = meanProbs(p);
    let ok = 0;
    for (let n = 0; n < 40; n++) if ((m[2 * n] > 0.5 ? 0 : 1) === test_.y[n]) ok++;
    assert.ok(ok >= 36, `accuracy ${ok}/40`);
    assert.ok(bald.score(p).every((v) => v >= 0 && Number.isFinite(v)));
    // the tensor predictive equals the float64 GP on the same features (probit path, S = 1)
    const s = await post.serialize();
    const json = JSON.parse(JSON.stringify(s.json));
    const back = await deserializePosterior({ json, weights: s.weights.slice(0) });
    assert.ok(back instanceof DklPosterior);
    assert.ok(maxAbsDiff((await back.predictiveSamples(test_.x)).probs, p.probs) < 1e-5);
    back.dispose();
    const probit = await deserializePosterior({ json: { ...json, options: { ...json.options, predictive: 'probit' } }, weights: s.weights.slice(0) });
    const q = await probit.predictiveSamples(test_.x);
    assert.deepEqual(q.shape, [1, 40, 2]);
    const feats = await post.features(test_.x);
    const ref = dirichletGpPredict(post.head!, feats.features);
    assert.ok(maxAbsDiff(q.probs, probitSoftmax(ref.mean, ref.variance, 40, 2)) < 1e-4);
    probit.dispose();
    post.dispose();
    assert.equal(tf.memory().numTensors, before_, 'tensors leaked');
  });
});
