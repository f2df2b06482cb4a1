/**
 * 'last-layer': closed-form Bayesian linear regression and the Laplace-approximated Bayesian
 * softmax regression on the penultimate features; end-to-end on a tiny synthetic image task.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { createPosterior, deserializePosterior, type Posterior, type PosteriorOptions, type PredictiveSamples } from '../../src-main/bdl/posterior/index.ts';
import { LastLayerPosterior } from '../../src-main/bdl/posterior/lastLayer.ts';
import { bald } from '../../src-main/bdl/acquisition/index.ts';
import { evaluate } from '../../src-main/bdl/metrics.ts';
import { meanProbs } from '../../src-main/bdl/acquisition/base.ts';
import { readMnist, sliceMnist } from '../../src-main/bdl/data/mnist.ts';
import { withBias } from '../../src-main/bdl/laplace/blr.ts';
import { blockDense, blockEigenvalues, prepareBlock } from '../../src-main/bdl/laplace/curvature.ts';
import { linearForward, linearGgn, linearGlmPredictive, logLikelihood, squaredNorm } from '../../src-main/bdl/laplace/linear.ts';
import { laplaceLogMarginalLikelihood, optimizePriorPrecision } from '../../src-main/bdl/laplace/marglik.ts';
import { probitSoftmax } from '../../src-main/bdl/laplace/predictive.ts';
import { addDiagonal, cholesky, choleskyInverse, gram, matmul, maxAbsDiff, transpose } from '../../src-main/bdl/linalg/dense.ts';
import { symEig } from '../../src-main/bdl/linalg/eig.ts';
import { standardNormal } from '../../src-main/bdl/linalg/random.ts';
import { MNIST_DIR, MNIST_SKIP, mnistAvailable } from './helpers.ts';
import { bars } from './methodFixtures.ts';

/** ReLU-like synthetic features [n, d] and labels of a noisy linear rule with c classes. */
function features(n: number, d: number, c: number, seed: number) {
  const phi = Float32Array.from(standardNormal(n * d, seed), (v) => Math.max(0, v));
  const w = standardNormal(d * c, seed + 1);
  const y = new Int32Array(n);
  const noise = standardNormal(n * c, seed + 2);
  for (let r = 0; r < n; r++) {
    let best = 0;
    let bv = -Infinity;
    for (let k = 0; k < c; k++) {
      let s = noise[r * c + k];
      for (let i = 0; i < d; i++) s += phi[r * d + i] * w[i * c + k] * 0.3;
      if (s > bv) {
        bv = s;
        best = k;
      }
    }
    y[r] = best;
  }
  return { phi, y };
}

function accuracy(p: PredictiveSamples, y: Int32Array): number {
  const m = meanProbs(p);
  const [, N, C] = p.shape;
  let ok = 0;
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (m[n * C + c] > m[n * C + best]) best = c;
    if (best === y[n]) ok++;
  }
  return ok / N;
}

function rowsSumToOne(p: PredictiveSamples): void {
  const [S, N, C] = p.shape;
  for (let i = 0; i < S * N; i++) {
    let t = 0;
    for (let c = 0; c < C; c++) t += p.probs[i * C + c];
    assert.ok(Math.abs(t - 1) < 1e-5, `row ${i} sums to ${t}`);
  }
}

async function roundTrip(post: Posterior, patch: Partial<PosteriorOptions> = {}): Promise<Posterior> {
  const s = await post.serialize();
  const json = JSON.parse(JSON.stringify(s.json));
  json.options = { ...json.options, ...patch };
  return deserializePosterior({ json, weights: s.weights.slice(0) });
}

const base: PosteriorOptions = { method: 'last-layer', imageSize: 28, channels: 1, numClasses: 2, seed: 4 };

before(async () => {
  await initBackend('wasm');
});

describe('Bayesian linear regression head (closed form)', () => {
  test('equals Bishop eqs. 3.53–3.54 on the features, at the evidence fixed point (§3.5.2)', async () => {
    const n = 70;
    const d = 128;
    const C = 3;
    const { phi, y } = features(n, d, C, 3);
    const post = createPosterior({ ...base, numClasses: C, lastLayerModel: 'linear' }) as LastLayerPosterior;
    try {
      await post.fitHead(phi, d, y);
      const blr = post.linearPosterior!;
      const { alpha, beta } = blr;
      const dA = d + 1;
      const X = withBias({ phi, n, d });
      const T = new Float64Array(n * C);
      for (let r = 0; r < n; r++) T[r * C + y[r]] = 1;
      // S_N⁻¹ = αI + βΦ̃ᵀΦ̃, m = β S_N Φ̃ᵀ t
      const A = addDiagonal(gram(X, n, dA).map((v) => beta * v), dA, alpha);
      const SN = choleskyInverse(cholesky(A, dA), dA);
      const M = matmul(SN, matmul(transpose(X, n, dA), T, dA, n, C), dA, dA, C).map((v) => beta * v);
      assert.ok(maxAbsDiff(blr.precision, A) < 1e-9 * Math.max(1, beta));
      assert.ok(maxAbsDiff(blr.mean, M) < 1e-8, `mean: ${maxAbsDiff(blr.mean, M)}`);
      // evidence fixed point: α = Kγ/‖M‖², β = K(N − γ)/‖T − Φ̃M‖²
      const lam = symEig(gram(X, n, dA), dA, { vectors: false }).values;
      let gamma = 0;
      for (const l of lam) gamma += (beta * Math.max(l, 0)) / (alpha + beta * Math.max(l, 0));
      const F = matmul(X, M, n, dA, C);
      let err = 0;
      for (let i = 0; i < n * C; i++) err += (T[i] - F[i]) ** 2;
      assert.ok(Math.abs(alpha - (C * gamma) / squaredNorm(M)) < 1e-6 * alpha, 'α fixed point');
      assert.ok(Math.abs(beta - (C * (n - gamma)) / err) < 1e-6 * beta, 'β fixed point');
      assert.ok(Math.abs(post.summary!.logMarginalLikelihood - blr.logEvidence) < 1e-12);
    } finally {
      post.dispose();
    }
    // a given priorPrecision fixes α
    const fixed = createPosterior({ ...base, numClasses: C, lastLayerModel: 'linear', priorPrecision: 3 }) as LastLayerPosterior;
    await fixed.fitHead(phi, d, y);
    assert.equal(fixed.linearPosterior!.alpha, 3);
    fixed.dispose();
  });
});

describe('Bayesian softmax regression head (Laplace)', () => {
  test('W̃* is the MAP, the covariance is (H + τI)⁻¹ with the exact Hessian, τ maximises the evidence', async () => {
    const n = 80;
    const d = 128;
    const C = 3;
    const { phi, y } = features(n, d, C, 8);
    const post = createPosterior({ ...base, numClasses: C, hessianStructure: 'full' }) as LastLayerPosterior;
    try {
      await post.fitHead(phi, d, y);
      const { w, block, priorPrecision: tau } = post.logisticPosterior!;
      assert.equal(block.structure, 'full');
      const f = { phi, n, d };
      const targets = { likelihood: 'categorical' as const, labels: y };
      // ∇[−log p(D|W) + τ/2‖W‖²] = −Φ̃ᵀ(Y − P) + τW ≈ 0
      const ll = logLikelihood(linearForward(f, w, C), n, C, targets);
      const X = withBias(f);
      const g = matmul(transpose(X, n, d + 1), ll.dF, d + 1, n, C).map((v, i) => -v + tau * w[i]);
      let gmax = 0;
      for (const v of g) gmax = Math.max(gmax, Math.abs(v));
      assert.ok(gmax < 1e-5, `gradient at the MAP ${gmax}`);
      const H = linearGgn(f, linearForward(f, w, C), C, targets, 'full');
      assert.ok(maxAbsDiff(blockDense(block), blockDense(H)) < 1e-10);
      const terms = { logLikelihood: ll.value, thetaSquaredNorm: squaredNorm(w), eigenvalues: blockEigenvalues(H) };
      const opt = optimizePriorPrecision(terms);
      assert.ok(Math.abs(Math.log(opt.priorPrecision / tau)) < 2e-3, `τ = ${tau}, evidence optimum at W̃* ${opt.priorPrecision}`);
      assert.ok(Math.abs(post.summary!.logMarginalLikelihood - laplaceLogMarginalLikelihood(terms, tau)) < 1e-8);
      // covariance of the weight samples used by the predictive = (H + τI)⁻¹
      const cov = prepareBlock(block, tau).covariance();
      const ref = choleskyInverse(cholesky(addDiagonal(blockDense(H), H.P, tau), H.P), H.P);
      assert.ok(maxAbsDiff(cov, ref) < 1e-10);
    } finally {
      post.dispose();
    }
  });
});

describe("the 'last-layer' posterior on a tiny image task", () => {
  const train = bars(40, 1);
  const test_ = bars(40, 2);

  test("logistic (Laplace, full): mc and probit predictives, serialisation, no leaks", async () => {
    const before_ = tf.memory().numTensors;
    const post = createPosterior({ ...base, mcSamples: 16, hessianStructure: 'full' }) as LastLayerPosterior;
    await assert.rejects(post.predictiveSamples(test_.x), /call fit first/);
    await post.fit(train.x, train.y, { epochs: 3, batchSize: 16 });
    const sum = post.summary!;
    assert.equal(sum.model, 'logistic');
    assert.equal(sum.hessianStructure, 'full');
    assert.ok(sum.priorPrecision > 0 && Number.isFinite(sum.logMarginalLikelihood));
    const p = await post.predictiveSamples(test_.x);
    assert.deepEqual(p.shape, [16, 40, 2]);
    rowsSumToOne(p);
    assert.ok(accuracy(p, test_.y) >= 0.9, `accuracy ${accuracy(p, test_.y)}`);
    assert.ok(bald.score(p).every((v) => v >= 0 && Number.isFinite(v)));
    const back = await roundTrip(post);
    assert.ok(back instanceof LastLayerPosterior);
    assert.deepEqual((await back.predictiveSamples(test_.x)).probs, p.probs);
    back.dispose();
    // probit equals the float64 GLM + probit on the same features
    const probit = await roundTrip(post, { predictive: 'probit' });
    const q = await probit.predictiveSamples(test_.x);
    assert.deepEqual(q.shape, [1, 40, 2]);
    const lp = post.logisticPosterior!;
    const feats = await post.features(test_.x);
    const glm = linearGlmPredictive(prepareBlock(lp.block, lp.priorPrecision), lp.w, { phi: feats.features, n: 40, d: 128 }, 2);
    assert.ok(maxAbsDiff(q.probs, probitSoftmax(glm.mean, glm.variance, 40, 2)) < 1e-4);
    probit.dispose();
    post.dispose();
    assert.equal(tf.memory().numTensors, before_, 'tensors leaked');
  });

  test('linear (closed-form BLR of one-hot labels, LSPC probabilities): shapes, accuracy, serialisation', async () => {
    const before_ = tf.memory().numTensors;
    const post = createPosterior({ ...base, lastLayerModel: 'linear', mcSamples: 12 }) as LastLayerPosterior;
    await post.fit(train.x, train.y, { epochs: 3, batchSize: 16 });
    assert.equal(post.summary!.model, 'linear');
    const p = await post.predictiveSamples(test_.x);
    assert.deepEqual(p.shape, [12, 40, 2]);
    rowsSumToOne(p);
    assert.ok(p.probs.every((v) => v > 0 && v < 1));
    assert.ok(accuracy(p, test_.y) >= 0.9, `accuracy ${accuracy(p, test_.y)}`);
    const back = await roundTrip(post);
    assert.deepEqual((await back.predictiveSamples(test_.x)).probs, p.probs);
    back.dispose();
    post.dispose();
    assert.equal(tf.memory().numTensors, before_, 'tensors leaked');
  });

  test('MNIST (optional): Bayesian last layer on 400 labels', { skip: mnistAvailable() ? false : MNIST_SKIP }, async () => {
    const m = readMnist(MNIST_DIR);
    const tr = sliceMnist(m, 0, 400);
    const te = sliceMnist(m, 9000, 9300);
    const post = createPosterior({ method: 'last-layer', imageSize: 28, channels: 1, numClasses: 10, seed: 1 });
    const t0 = performance.now();
    await post.fit(tr.images, tr.labels, { epochs: 4, batchSize: 32 });
    const p = await post.predictiveSamples(te.images);
    const ev = evaluate(meanProbs(p), te.labels, 10);
    console.log(`# MNIST last-layer (kron, 400 labels): acc ${ev.accuracy.toFixed(3)} NLL ${ev.nll.toFixed(3)} ECE ${ev.ece.toFixed(3)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.ok(ev.accuracy > 0.8, `accuracy ${ev.accuracy}`);
    assert.ok(ev.nll < 0.8, `NLL ${ev.nll}`);
    post.dispose();
  });
});
