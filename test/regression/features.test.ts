import assert from 'node:assert/strict';
import { test } from 'node:test';
import { symEig } from '../../src-main/bdl/linalg/eig.ts';
import { standardNormal } from '../../src-main/bdl/linalg/random.ts';
import { fitPca, poolFactorFor, poolImages, projectRows } from '../../src-main/regression/features.ts';

test('pooling factors bring every project size to ≤ 32 pixels a side, and pooling averages blocks', () => {
  assert.deepEqual([28, 64, 128, 224].map(poolFactorFor), [1, 2, 4, 7]);
  // One 4×4 single-channel image, pooled by 2: block means, scaled to [0, 1].
  const x = Uint8Array.from([0, 255, 10, 10, 255, 0, 10, 10, 51, 51, 0, 0, 51, 51, 0, 0]);
  const pooled = poolImages(x, 4, 1, 2, 0, 1);
  assert.deepEqual([...pooled].map((v) => Math.round(v * 255 * 100) / 100), [127.5, 10, 51, 0]);
});

test('the randomised PCA finds the leading eigenvectors of the sample covariance (to 1e-6)', () => {
  // 200 rows in 40 dimensions with a decaying spectrum: rank-5 signal plus small isotropic noise.
  const n = 200;
  const p = 40;
  const z = standardNormal(n * 5, 1);
  const w = standardNormal(5 * p, 2);
  const noise = standardNormal(n * p, 3);
  const x = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let d = 0; d < p; d++) {
      let t = 0.01 * noise[i * p + d];
      for (let k = 0; k < 5; k++) t += z[i * 5 + k] * w[k * p + d] * (5 - k);
      x[i * p + d] = t;
    }
  const basis = fitPca(x, n, p, 1, { maxComponents: 5, seed: 4 });
  assert.equal(basis.k, 5);
  const cov = new Float64Array(p * p);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) cov[a * p + b] += ((x[i * p + a] - basis.mean[a]) * (x[i * p + b] - basis.mean[b])) / (n - 1);
  const { values, vectors } = symEig(cov, p);
  for (let c = 0; c < 5; c++) {
    const j = p - 1 - c;
    let dot = 0;
    for (let d = 0; d < p; d++) dot += basis.components[c * p + d] * vectors![d * p + j];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-6, `component ${c}: |cos| = ${Math.abs(dot)}`);
  }
  // The projected features have unit mean variance over the kept components.
  const f = projectRows(basis, x, n);
  let total = 0;
  for (let c = 0; c < 5; c++) {
    let v = 0;
    for (let i = 0; i < n; i++) v += f[i * 5 + c] ** 2 / (n - 1);
    total += v;
  }
  assert.ok(Math.abs(total / 5 - 1) < 1e-9);
  assert.ok(values[p - 1] > 0);
  assert.throws(() => fitPca(new Float64Array(3 * p).fill(0.5), 3, p, 1), /all identical/);
});
