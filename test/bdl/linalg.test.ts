import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDiagonal,
  cholesky,
  choleskyInverse,
  choleskyJitter,
  choleskySolve,
  eye,
  gram,
  invertLower,
  kron,
  logDetCholesky,
  matmul,
  maxAbsDiff,
  NotPositiveDefiniteError,
  solveLower,
  solveLowerT,
  transpose,
} from '../../src-main/bdl/linalg/dense.ts';
import { symEig } from '../../src-main/bdl/linalg/eig.ts';
import { minimizeLbfgs } from '../../src-main/bdl/linalg/lbfgs.ts';
import { standardNormal } from '../../src-main/bdl/linalg/random.ts';

/** A random SPD matrix XᵀX/n + δI [d, d]. */
function spd(d: number, seed: number, delta = 0.1): Float64Array {
  const n = d + 5;
  const x = standardNormal(n * d, seed);
  const g = gram(x, n, d);
  for (let i = 0; i < d * d; i++) g[i] /= n;
  return addDiagonal(g, d, delta);
}

test('cholesky: L Lᵀ = A, solves, inverse, log det', () => {
  const n = 23;
  const a = spd(n, 1);
  const l = cholesky(a, n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
  assert.ok(maxAbsDiff(matmul(l, transpose(l, n, n), n, n, n), a) < 1e-13);
  const b = standardNormal(n * 3, 2);
  const x = choleskySolve(l, n, b, 3);
  assert.ok(maxAbsDiff(matmul(a, x, n, n, 3), b) < 1e-11);
  assert.ok(maxAbsDiff(matmul(l, solveLower(l, n, b, 3), n, n, 3), b) < 1e-12);
  assert.ok(maxAbsDiff(matmul(transpose(l, n, n), solveLowerT(l, n, b, 3), n, n, 3), b) < 1e-12);
  assert.ok(maxAbsDiff(matmul(a, choleskyInverse(l, n), n, n, n), eye(n)) < 1e-11);
  assert.ok(maxAbsDiff(matmul(l, invertLower(l, n), n, n, n), eye(n)) < 1e-12);
  // log det against the product of eigenvalues
  const ev = symEig(a, n, { vectors: false }).values;
  let ld = 0;
  for (const v of ev) ld += Math.log(v);
  assert.ok(Math.abs(logDetCholesky(l, n) - ld) < 1e-10);
});

test('cholesky refuses indefinite matrices; jitter rescues a singular PSD one', () => {
  assert.throws(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2), NotPositiveDefiniteError);
  const v = Float64Array.from([1, 2, 3]);
  const rank1 = matmul(v, v, 3, 1, 3); // v vᵀ, singular
  const { L, jitter } = choleskyJitter(rank1, 3);
  assert.ok(jitter > 0 && jitter < 1e-3);
  assert.ok(maxAbsDiff(matmul(L, transpose(L, 3, 3), 3, 3, 3), rank1) < 1e-3);
});

test('symEig: A Q = Q Λ, QᵀQ = I, ascending; values-only agrees; known spectrum', () => {
  for (const n of [1, 2, 7, 40]) {
    const a = spd(n, 10 + n, 0);
    const { values, vectors } = symEig(a, n);
    const q = vectors!;
    for (let i = 1; i < n; i++) assert.ok(values[i] >= values[i - 1]);
    const aq = matmul(a, q, n, n, n);
    const ql = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) ql[i * n + j] = q[i * n + j] * values[j];
    assert.ok(maxAbsDiff(aq, ql) < 1e-12 * Math.max(1, values[n - 1]) * n, `n=${n}`);
    assert.ok(maxAbsDiff(matmul(transpose(q, n, n), q, n, n, n), eye(n)) < 1e-12 * n);
    const only = symEig(a, n, { vectors: false });
    assert.equal(only.vectors, null);
    assert.ok(maxAbsDiff(only.values, values) < 1e-12 * Math.max(1, values[n - 1]));
  }
  // tridiagonal (−1, 2, −1): λ_k = 2 − 2cos(kπ/(n+1))
  const n = 30;
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    t[i * n + i] = 2;
    if (i > 0) t[i * n + i - 1] = t[(i - 1) * n + i] = -1;
  }
  const ev = symEig(t, n, { vectors: false }).values;
  for (let k = 1; k <= n; k++) assert.ok(Math.abs(ev[k - 1] - (2 - 2 * Math.cos((k * Math.PI) / (n + 1)))) < 1e-13);
  // zero matrix and a Kronecker product: eig(A⊗B) = {λ_i μ_j}
  assert.deepEqual(Array.from(symEig(new Float64Array(9), 3).values), [0, 0, 0]);
  const A = spd(4, 3);
  const B = spd(3, 4);
  const ab = symEig(kron(A, 4, B, 3), 12, { vectors: false }).values;
  const ea = symEig(A, 4).values;
  const eb = symEig(B, 3).values;
  const prods = Array.from(ea).flatMap((x) => Array.from(eb, (y) => x * y)).sort((p, q) => p - q);
  assert.ok(maxAbsDiff(ab, prods) < 1e-12);
});

test('L-BFGS: Rosenbrock and a box-constrained quadratic', () => {
  const rosen = (x: Float64Array) => ({
    value: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2,
    gradient: [-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)],
  });
  const r = minimizeLbfgs(rosen, [-1.2, 1], { maxIter: 500, gtol: 1e-10 });
  assert.ok(Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, `${r.x} ${r.message}`);
  // min (x0−3)² + (x1+1)² over [−2, 2]² → (2, −1)
  const q = (x: Float64Array) => ({ value: (x[0] - 3) ** 2 + (x[1] + 1) ** 2, gradient: [2 * (x[0] - 3), 2 * (x[1] + 1)] });
  const b = minimizeLbfgs(q, [0, 0], { lower: [-2, -2], upper: [2, 2] });
  assert.ok(Math.abs(b.x[0] - 2) < 1e-9 && Math.abs(b.x[1] + 1) < 1e-7, `${b.x}`);
});

test('standardNormal: seeded, mean ≈ 0, variance ≈ 1', () => {
  const z = standardNormal(20001, 5);
  assert.deepEqual(standardNormal(10, 5), z.subarray(0, 10));
  let m = 0;
  let v = 0;
  for (const x of z) m += x;
  m /= z.length;
  for (const x of z) v += (x - m) ** 2;
  v /= z.length;
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.04, `${m} ${v}`);
});
