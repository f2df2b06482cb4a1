/**
 * 'sgld': the sampler on a known 2-D Gaussian (mean and covariance within Monte-Carlo error), its
 * bookkeeping and ESS estimator, the tensor optimiser's update, and the posterior on a tiny
 * synthetic image task.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { toVariable } from '../../src-main/bdl/layers/meanField.ts';
import { effectiveSampleSize, gaussianSource, polynomialFromInitial, polynomialStepSize, SGLD, sgldSample, SgldPlan } from '../../src-main/bdl/optim/sgld.ts';
import { createPosterior, deserializePosterior } from '../../src-main/bdl/posterior/registry.ts';
import { SGLDPosterior } from '../../src-main/bdl/posterior/sgld.ts';
import type { PosteriorOptions } from '../../src-main/bdl/posterior/types.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { bars, accuracy, assertRowsSumToOne } from './methodFixtures.ts';

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};

const base: PosteriorOptions = { method: 'sgld', imageSize: 28, channels: 1, numClasses: 2, seed: 5, sgldSamples: 4 };

before(async () => {
  await initBackend('wasm');
});

describe('SGLD sampler', () => {
  test('recovers the mean and covariance of a 2-D Gaussian within 4 Monte-Carlo standard errors', () => {
    // Target N(μ, Σ), μ = (1, −2), Σ = [[1, 0.6], [0.6, 2]]: U(θ) = ½ (θ − μ)ᵀ Σ⁻¹ (θ − μ). The
    // gradient gets uniform noise on [−1, 1] (variance 1/3 per coordinate), as a minibatch estimate
    // would. Schedule h_t = 0.04 (1 + t/10⁵)^−0.55 (0.04 → 0.0075), burn-in 20 000, thin 20,
    // 100 000 samples (2.02 M steps). Discretisation bias of the variances ≈ h·λ_max(Σ⁻¹)/4 ≤ 1.4%,
    // below one SE (≈ 1.5–2%).
    const mu = [1, -2];
    const S = [
      [1, 0.6],
      [0.6, 2],
    ];
    const det = S[0][0] * S[1][1] - S[0][1] ** 2;
    const P = [
      [S[1][1] / det, -S[0][1] / det],
      [-S[1][0] / det, S[0][0] / det],
    ];
    const noise = mulberry32(9);
    const g = new Float64Array(2);
    const plan = new SgldPlan({ schedule: polynomialFromInitial(0.04, 100_000), burnIn: 20_000, thin: 20, samples: 100_000 });
    const r = sgldSample(
      (th) => {
        const d0 = th[0] - mu[0];
        const d1 = th[1] - mu[1];
        g[0] = P[0][0] * d0 + P[0][1] * d1 + (2 * noise() - 1);
        g[1] = P[1][0] * d0 + P[1][1] * d1 + (2 * noise() - 1);
        return g;
      },
      [5, 5],
      plan,
      3,
    );
    assert.equal(r.steps, 2_020_000);
    const n = plan.samples;
    const x0 = new Float64Array(n);
    const x1 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x0[i] = r.samples[2 * i];
      x1[i] = r.samples[2 * i + 1];
    }
    const m0 = mean(x0);
    const m1 = mean(x1);
    // Each statistic is the mean of a series f(θ_i); its SE is sd(f)/√ESS(f) (Geyer's ESS).
    const series: [string, Float64Array, number][] = [
      ['E θ₁', x0, mu[0]],
      ['E θ₂', x1, mu[1]],
      ['Var θ₁', x0.map((v) => (v - m0) ** 2), S[0][0]],
      ['Var θ₂', x1.map((v) => (v - m1) ** 2), S[1][1]],
      ['Cov θ₁θ₂', x0.map((v, i) => (v - m0) * (x1[i] - m1)), S[0][1]],
    ];
    for (const [name, f, truth] of series) {
      const est = mean(f);
      const sd = Math.sqrt(mean(f.map((v) => (v - est) ** 2)));
      const ess = effectiveSampleSize(f);
      const se = sd / Math.sqrt(ess);
      assert.ok(ess > 1000 && se < 0.06, `${name}: ESS ${ess.toFixed(0)}, SE ${se} (too few effective samples for the test to mean anything)`);
      assert.ok(Math.abs(est - truth) < 4 * se, `${name}: ${est} vs ${truth} (SE ${se.toFixed(4)}, ESS ${ess.toFixed(0)})`);
    }
  });

  test('effective sample size of an AR(1) chain ≈ n (1 − ρ)/(1 + ρ) (within 15%)', () => {
    const normal = gaussianSource(mulberry32(4));
    for (const rho of [0, 0.5, 0.9]) {
      const n = 50_000;
      const x = new Float64Array(n);
      for (let i = 1; i < n; i++) x[i] = rho * x[i - 1] + Math.sqrt(1 - rho * rho) * normal();
      const expected = (n * (1 - rho)) / (1 + rho);
      const ess = effectiveSampleSize(x);
      assert.ok(Math.abs(ess / expected - 1) < 0.15, `ρ = ${rho}: ESS ${ess} vs ${expected}`);
    }
  });

  test('plan: polynomial decay, burn-in, thinning, the last sample at the last step', () => {
    const s = { a: 2, b: 10, gamma: 0.55 };
    assert.equal(polynomialStepSize(s, 0), 2 * 10 ** -0.55);
    const f = polynomialFromInitial(0.1, 50);
    assert.ok(Math.abs(polynomialStepSize(f, 0) - 0.1) < 1e-15);
    assert.ok(polynomialStepSize(f, 100) < polynomialStepSize(f, 10));
    const plan = new SgldPlan({ schedule: f, burnIn: 5, thin: 3, samples: 4 });
    assert.equal(plan.steps, 17);
    const kept = Array.from({ length: plan.steps }, (_, t) => plan.sampleIndex(t));
    assert.deepEqual(kept, [-1, -1, -1, -1, -1, -1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3]);
    assert.throws(() => new SgldPlan({ schedule: f, burnIn: 0, thin: 0, samples: 1 }), /thin must be an integer ≥ 1/);
    assert.throws(() => new SgldPlan({ schedule: f, burnIn: 0, thin: 1, samples: 1, temperature: 0 }), /temperature must be > 0/);
  });

  test('tensor optimiser: drift −(h/2)·N·∇L and noise variance h·T', () => {
    const before = tf.memory().numTensors;
    // drift: L = ½ Σ c θ² / N (Û = N·L), temperature ~0 so the step is deterministic
    const N = 50;
    const h0 = 0.01;
    const theta = toVariable(tf.tensor1d([1, -2, 3]), true);
    const c = tf.tensor1d([1, 2, 4]);
    const plan = new SgldPlan({ schedule: polynomialFromInitial(h0, 10), burnIn: 0, thin: 1, samples: 2, temperature: 1e-20 });
    const kept: number[] = [];
    const opt = new SGLD({ plan, examples: N, onSample: (k) => kept.push(k) });
    opt.minimize(() => tf.tidy(() => tf.div(tf.sum(tf.mul(0.5, tf.mul(c, tf.square(theta)))), N) as tf.Scalar), false, [theta]);
    const got = theta.dataSync();
    [1, -2, 3].forEach((t0, i) => {
      const expected = t0 - 0.5 * h0 * [1, 2, 4][i] * t0; // −(h/2)·∇Û, ∇Û = c θ
      assert.ok(Math.abs(got[i] - expected) < 1e-6, `θ${i} ${got[i]} vs ${expected}`);
    });
    assert.deepEqual(kept, [0]);
    opt.dispose();
    tf.dispose([theta, c]);

    // noise: zero gradient, 200 000 coordinates, T = 0.5 → increments ~ N(0, h0·T)
    const v = toVariable(tf.zeros([200_000]), true);
    const noisy = new SGLD({ plan: new SgldPlan({ schedule: polynomialFromInitial(h0, 10), burnIn: 0, thin: 1, samples: 1, temperature: 0.5 }), examples: N });
    noisy.minimize(() => tf.tidy(() => tf.mul(0, tf.sum(v)) as tf.Scalar), false, [v]);
    const inc = v.dataSync();
    const varInc = mean(Array.from(inc, (x) => x * x));
    // SE of a variance estimate from n Gaussian values: √(2/n)·σ² (0.3%); 5 SE
    assert.ok(Math.abs(varInc / (h0 * 0.5) - 1) < 5 * Math.sqrt(2 / inc.length), `noise variance ${varInc} vs ${h0 * 0.5}`);
    noisy.dispose();
    v.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});

describe("'sgld' posterior", () => {
  const train = bars(40, 1);
  const held = bars(40, 2);

  test('learns a tiny image task; bank predictive, serialisation, no leaks', async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior(base) as SGLDPosterior;
    assert.ok(post instanceof SGLDPosterior);
    // 4 epochs × 4 batches = 16 steps: burn-in 8, then one sample every 2 steps
    await post.fit(train.x, train.y, { epochs: 4, batchSize: 10 });
    assert.deepEqual(post.chainInfo, { samples: 4, steps: 16, burnIn: 8, thin: 2, h0: (2 * 0.05) / 40, gamma: 0.55, temperature: 1, subsetOfWeights: 'all' });
    assert.equal(post.bankSize, 4);
    const p = await post.predictiveSamples(held.x);
    assert.deepEqual(p.shape, [4, 40, 2]);
    assertRowsSumToOne(p);
    assert.ok(accuracy(p, held.y) >= 0.75, `accuracy ${accuracy(p, held.y)}`);
    // bank samples differ
    assert.notDeepEqual(post.bankSample(0).subarray(0, 100), post.bankSample(3).subarray(0, 100));
    assert.notDeepEqual(Array.from(p.probs.subarray(0, 80)), Array.from(p.probs.subarray(240, 320)));
    // the first S bank samples with `samples`, and no more than the bank
    const two = await post.predictiveSamples(held.x, { samples: 2 });
    assert.deepEqual(two.probs, p.probs.subarray(0, 2 * 40 * 2));
    await assert.rejects(post.predictiveSamples(held.x, { samples: 5 }), /5 samples requested but the bank holds 4/);

    const s = await post.serialize();
    const back = await deserializePosterior({ json: JSON.parse(JSON.stringify(s.json)), weights: s.weights.slice(0) });
    assert.ok(back instanceof SGLDPosterior);
    assert.equal(back.bankSize, 4);
    assert.deepEqual((await back.predictiveSamples(held.x)).probs, p.probs);
    back.dispose();
    post.dispose();
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
  });

  test("'last-layer': only the logits layer is sampled after burn-in; the bank holds it alone", async () => {
    const before = tf.memory().numTensors;
    const post = createPosterior({ ...base, subsetOfWeights: 'last-layer', sgldSamples: 3 }) as SGLDPosterior;
    await post.fit(train.x, train.y, { epochs: 3, batchSize: 10 });
    assert.equal(post.bankSample(0).length, 128 * 2 + 2);
    const p = await post.predictiveSamples(held.x);
    assert.deepEqual(p.shape, [3, 40, 2]);
    assertRowsSumToOne(p);
    assert.ok(accuracy(p, held.y) >= 0.75, `accuracy ${accuracy(p, held.y)}`);
    post.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  test('refuses invalid combinations and too-short fits', async () => {
    const bad: [Partial<PosteriorOptions>, RegExp][] = [
      [{ hessianStructure: 'full' }, /hessianStructure is not applicable to method 'sgld'/],
      [{ sgldSamples: 0 }, /sgldSamples must be a positive integer/],
      [{ sgldBurnIn: 1 }, /sgldBurnIn must be in \[0, 1\)/],
      [{ sgldTemperature: 0 }, /sgldTemperature must be a finite number > 0/],
      [{ ivonEss: 10 }, /ivonEss is an option of method 'ivon', not applicable to method 'sgld'/],
      [{ prior: 'spike-slab' }, /prior 'spike-slab' is not supported for method 'sgld'/],
    ];
    for (const [patch, re] of bad) assert.throws(() => createPosterior({ ...base, ...patch }), re);
    const post = createPosterior({ ...base, sgldSamples: 20 });
    await assert.rejects(post.fit(train.x, train.y, { epochs: 1, batchSize: 10 }), /the fit has 4 steps .* sgldSamples = 20 needs at least 20/);
    post.dispose();
  });
});
