/**
 * Small dense linear algebra in plain TypeScript on Float64Array (row-major), for the sizes the
 * BDL library needs: last-layer Laplace (≤ (128+1)·C parameters), Kronecker factors (129×129 and
 * C×C), exact GPs on ≤ ~1000 points. Nothing here allocates tensors.
 *
 * Conventions: a matrix is a Float64Array of length rows·cols, element (i, j) at i·cols + j.
 * "Lower" factors L satisfy A = L Lᵀ (Golub & Van Loan, Matrix Computations, 4th ed., §4.2).
 */

/** Thrown when a matrix that must be symmetric positive definite is not (numerically). */
export class NotPositiveDefiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotPositiveDefiniteError';
  }
}

function assertSquare(a: ArrayLike<number>, n: number, what: string): void {
  if (!(Number.isInteger(n) && n >= 0) || a.length !== n * n) {
    throw new Error(`${what}: expected an ${n}×${n} matrix (${n * n} values), got ${a.length}`);
  }
}

/** n×n identity. */
export function eye(n: number, scale = 1): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = scale;
  return out;
}

/** C [m, n] = A [m, k] · B [k, n]. */
export function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`matmul: shapes [${m},${k}]·[${k},${n}] do not match ${a.length}, ${b.length}`);
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const oi = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[oi + j] += aip * b[bp + j];
    }
  }
  return out;
}

/** Aᵀ for A [m, n] → [n, m]. */
export function transpose(a: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j];
  return out;
}

/** Gram matrix XᵀX [d, d] of X [n, d] (symmetric, both triangles filled). */
export function gram(x: ArrayLike<number>, n: number, d: number): Float64Array {
  if (x.length !== n * d) throw new Error(`gram: X has ${x.length} values, expected ${n}·${d}`);
  const out = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i];
      if (xi === 0) continue;
      const oi = i * d;
      for (let j = i; j < d; j++) out[oi + j] += xi * x[o + j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) out[i * d + j] = out[j * d + i];
  return out;
}

/** Kronecker product A ⊗ B for A [m, m], B [p, p] → [mp, mp] ((A⊗B)_{(i,a),(j,b)} = A_ij B_ab). */
export function kron(a: ArrayLike<number>, m: number, b: ArrayLike<number>, p: number): Float64Array {
  assertSquare(a, m, 'kron A');
  assertSquare(b, p, 'kron B');
  const n = m * p;
  const out = new Float64Array(n * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      const aij = a[i * m + j];
      if (aij === 0) continue;
      for (let r = 0; r < p; r++) for (let c = 0; c < p; c++) out[(i * p + r) * n + j * p + c] = aij * b[r * p + c];
    }
  return out;
}

/** A + s·I, returning a new matrix. */
export function addDiagonal(a: ArrayLike<number>, n: number, s: number): Float64Array {
  assertSquare(a, n, 'addDiagonal');
  const out = Float64Array.from(a);
  for (let i = 0; i < n; i++) out[i * n + i] += s;
  return out;
}

/**
 * Cholesky factor L (lower, A = L Lᵀ) of a symmetric positive definite A [n, n]
 * (Cholesky–Banachiewicz, row by row; only the lower triangle of A is read).
 * Throws {@link NotPositiveDefiniteError} when a pivot is ≤ 0 or not finite.
 */
export function cholesky(a: ArrayLike<number>, n: number): Float64Array {
  assertSquare(a, n, 'cholesky');
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      let s = a[li + j];
      for (let k = 0; k < j; k++) s -= l[li + k] * l[lj + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) {
          throw new NotPositiveDefiniteError(`cholesky: matrix is not positive definite (pivot ${i} = ${s})`);
        }
        l[li + i] = Math.sqrt(s);
      } else {
        l[li + j] = s / l[lj + j];
      }
    }
  }
  return l;
}

/**
 * Cholesky with adaptive jitter (as GPyTorch's psd_safe_cholesky): tries A, then A + ε·I with
 * ε = 1e-10·mean(diag A), ×10 each retry, up to `maxTries` times.
 */
export function choleskyJitter(a: ArrayLike<number>, n: number, maxTries = 6): { L: Float64Array; jitter: number } {
  try {
    return { L: cholesky(a, n), jitter: 0 };
  } catch (e) {
    if (!(e instanceof NotPositiveDefiniteError)) throw e;
  }
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += Math.abs(a[i * n + i]);
  meanDiag = n > 0 ? meanDiag / n : 1;
  let jitter = 1e-10 * (meanDiag || 1);
  for (let t = 0; t < maxTries; t++, jitter *= 10) {
    try {
      return { L: cholesky(addDiagonal(a, n, jitter), n), jitter };
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
    }
  }
  throw new NotPositiveDefiniteError(`cholesky: not positive definite even with jitter ${jitter / 10}`);
}

/** Solves L X = B in place of a copy: L [n, n] lower, B [n, r] → X [n, r] (forward substitution). */
export function solveLower(l: ArrayLike<number>, n: number, b: ArrayLike<number>, r = 1): Float64Array {
  if (b.length !== n * r) throw new Error(`solveLower: B has ${b.length} values, expected ${n}·${r}`);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    const xi = i * r;
    for (let k = 0; k < i; k++) {
      const lik = l[li + k];
      if (lik === 0) continue;
      const xk = k * r;
      for (let c = 0; c < r; c++) x[xi + c] -= lik * x[xk + c];
    }
    const d = l[li + i];
    for (let c = 0; c < r; c++) x[xi + c] /= d;
  }
  return x;
}

/** Solves Lᵀ X = B: L [n, n] lower, B [n, r] → X [n, r] (back substitution). */
export function solveLowerT(l: ArrayLike<number>, n: number, b: ArrayLike<number>, r = 1): Float64Array {
  if (b.length !== n * r) throw new Error(`solveLowerT: B has ${b.length} values, expected ${n}·${r}`);
  const x = Float64Array.from(b);
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * r;
    const d = l[i * n + i];
    for (let c = 0; c < r; c++) x[xi + c] /= d;
    // eliminate x_i from the rows above: row k < i of Lᵀ has Lᵀ[k][i] = L[i][k]
    const li = i * n;
    for (let k = 0; k < i; k++) {
      const lik = l[li + k];
      if (lik === 0) continue;
      const xk = k * r;
      for (let c = 0; c < r; c++) x[xk + c] -= lik * x[xi + c];
    }
  }
  return x;
}

/** Solves A X = B given the Cholesky factor L of A (A = L Lᵀ). B [n, r]. */
export function choleskySolve(l: ArrayLike<number>, n: number, b: ArrayLike<number>, r = 1): Float64Array {
  return solveLowerT(l, n, solveLower(l, n, b, r), r);
}

/** log det A = 2 Σ log L_ii. */
export function logDetCholesky(l: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(l[i * n + i]);
  return 2 * s;
}

/** L⁻¹ (lower triangular) of a lower-triangular L [n, n]. */
export function invertLower(l: ArrayLike<number>, n: number): Float64Array {
  assertSquare(l, n, 'invertLower');
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    // column j of L⁻¹: solve L x = e_j, x_i = 0 for i < j
    inv[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      const li = i * n;
      for (let k = j; k < i; k++) s -= l[li + k] * inv[k * n + j];
      inv[li + j] = s / l[li + i];
    }
  }
  return inv;
}

/** A⁻¹ = L⁻ᵀ L⁻¹ from the Cholesky factor L of A (symmetric result). */
export function choleskyInverse(l: ArrayLike<number>, n: number): Float64Array {
  const li = invertLower(l, n);
  const out = new Float64Array(n * n);
  // (L⁻ᵀL⁻¹)_ij = Σ_k (L⁻¹)_ki (L⁻¹)_kj, k ≥ max(i, j)
  for (let k = 0; k < n; k++) {
    const rk = k * n;
    for (let i = 0; i <= k; i++) {
      const a = li[rk + i];
      if (a === 0) continue;
      const oi = i * n;
      for (let j = 0; j <= i; j++) out[oi + j] += a * li[rk + j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[j * n + i] = out[i * n + j];
  return out;
}

/** Maximum absolute difference ‖A − B‖_max. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Symmetrises in place: A ← (A + Aᵀ)/2. */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (a[i * n + j] + a[j * n + i]);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  return a;
}
