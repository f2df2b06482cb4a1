import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { evaluatePriorNetworks, grid, priorPredictiveCheck, samplePriorNetworks } from '../../src-main/bdl/priorPredictive.ts';
import { noLeak } from './helpers.ts';

await initBackend('cpu');

test('prior check: curves [S, G] for both activations, same draws per seed, no tensor left behind', async () => {
  const { value: c, leaked } = await noLeak(() => priorPredictiveCheck({ samples: 7, width: 20, depth: 2, seed: 3 }, { points: 51 }));
  assert.equal(leaked, 0);
  assert.equal(c.x.length, 51);
  assert.equal(c.tanh.length, 7 * 51);
  assert.equal(c.relu.length, 7 * 51);
  assert.equal(c.x[0], -3);
  assert.equal(c.x[50], 3);
  assert.ok(c.tanh.every(Number.isFinite) && c.relu.every(Number.isFinite));
  const again = await priorPredictiveCheck({ samples: 7, width: 20, depth: 2, seed: 3 }, { points: 51 });
  assert.deepEqual(again.relu, c.relu);
  const other = await priorPredictiveCheck({ samples: 7, width: 20, depth: 2, seed: 4 }, { points: 51 });
  assert.notDeepEqual(other.relu, c.relu);
});

test('prior check: bad options are refused with a clear message', async () => {
  await assert.rejects(() => priorPredictiveCheck({ samples: 0 }), /samples must be a whole number/);
  await assert.rejects(() => priorPredictiveCheck({ sigmaW: 0 }), /sigmaW/);
  await assert.rejects(() => priorPredictiveCheck({ prior: 'spike-slab' as never }), /prior must be gaussian or laplace/);
  assert.throws(() => grid(1, 1, 10), /lo < hi/);
});

/** Var f(x) = σ_b² + σ_w² (σ_w² x² + σ_b²) / 2 for one ReLU hidden layer; sample variance within 5 standard errors. */
for (const prior of ['gaussian', 'laplace'] as const) {
  test(`prior check (${prior}): the variance of f(x) of a one-hidden-layer ReLU network matches the closed form`, async () => {
    const S = 4000;
    const sw = 1.5;
    const sb = 0.7;
    const x = Float32Array.from([-2, 0, 1.5]);
    const f = await evaluatePriorNetworks(samplePriorNetworks({ prior, samples: S, width: 30, depth: 1, sigmaW: sw, sigmaB: sb, seed: 11 }), 'relu', x);
    x.forEach((xv, g) => {
      const v = Array.from({ length: S }, (_, s) => f[s * x.length + g]);
      const mean = v.reduce((a, b) => a + b, 0) / S;
      const m2 = v.reduce((a, b) => a + (b - mean) ** 2, 0) / S;
      const m4 = v.reduce((a, b) => a + (b - mean) ** 4, 0) / S;
      const se = Math.sqrt((m4 - m2 * m2) / S);
      const expected = sb * sb + (sw * sw * (sw * sw * xv * xv + sb * sb)) / 2;
      assert.ok(Math.abs(m2 - expected) < 5 * se, `x = ${xv}: sample variance ${m2.toFixed(3)} vs ${expected.toFixed(3)} (se ${se.toFixed(3)})`);
      assert.ok(Math.abs(mean) < 5 * Math.sqrt(m2 / S), `x = ${xv}: mean ${mean}`);
    });
  });
}

test('prior check: tanh functions are bounded by Σ|W_out| + |b_out|; ReLU functions are piecewise linear with ≤ width kinks', async () => {
  const S = 20;
  const H = 15;
  const nets = samplePriorNetworks({ samples: S, width: H, depth: 1, seed: 5 });
  const x = grid(-3, 3, 241);
  const G = x.length;
  const tanh = await evaluatePriorNetworks(nets, 'tanh', x);
  const relu = await evaluatePriorNetworks(nets, 'relu', x);
  const out = nets.layers[1];
  let curvedTanh = 0;
  for (let s = 0; s < S; s++) {
    let bound = Math.abs(out.b[s]);
    for (let k = 0; k < H; k++) bound += Math.abs(out.w[s * H + k]);
    let kinks = 0;
    let scale = 0;
    for (let g = 0; g < G; g++) scale = Math.max(scale, Math.abs(relu[s * G + g]));
    for (let g = 0; g < G; g++) assert.ok(Math.abs(tanh[s * G + g]) <= bound + 1e-5, `sample ${s}: |f| ${tanh[s * G + g]} > ${bound}`);
    for (let g = 1; g + 1 < G; g++) {
      const d2 = (a: Float32Array) => a[s * G + g - 1] - 2 * a[s * G + g] + a[s * G + g + 1];
      if (Math.abs(d2(relu)) > 1e-5 * (1 + scale)) kinks++;
      if (Math.abs(d2(tanh)) > 1e-5 * (1 + bound)) curvedTanh++;
    }
    // A kink between two grid points changes at most two second differences.
    assert.ok(kinks <= 2 * H, `sample ${s}: ${kinks} non-zero second differences for ${H} units`);
  }
  assert.ok(curvedTanh > 0.5 * S * (G - 2), `tanh curvature at only ${curvedTanh} of ${S * (G - 2)} points`);
});
