/**
 * Symmetric eigendecomposition A = Q diag(λ) Qᵀ in plain TypeScript (Float64Array).
 *
 * Householder tridiagonalisation followed by the implicit QL algorithm with Wilkinson-type
 * shifts: the EISPACK routines tred2 / tql2 (Bowdler, Martin, Reinsch & Wilkinson 1968; Smith et
 * al., EISPACK Guide 1976) as ported in JAMA's EigenvalueDecomposition (public domain). Cost
 * ≈ (4/3)n³ without eigenvectors and ≈ 9n³ with them; used for Kronecker factors (≤ 129×129 and
 * C×C) and for the eigenvalues of a last-layer GGN (≤ 1290×1290) in the marginal likelihood.
 *
 * Internally the working matrix is stored column-major so that the inner loops (over rows k of
 * a fixed column) are contiguous.
 */

export interface SymEig {
  /** Eigenvalues in ascending order [n]. */
  values: Float64Array;
  /** Q [n, n] row-major, column j = unit eigenvector of values[j]; null when not requested. */
  vectors: Float64Array | null;
}

/**
 * @param a symmetric A [n, n] row-major (only used as symmetric; not modified)
 * @param opts.vectors compute eigenvectors (default true)
 */
export function symEig(a: ArrayLike<number>, n: number, opts: { vectors?: boolean } = {}): SymEig {
  if (!(Number.isInteger(n) && n >= 0) || a.length !== n * n) throw new Error(`symEig: expected ${n}×${n} values, got ${a.length}`);
  const wantVectors = opts.vectors ?? true;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new Error('symEig: matrix has non-finite entries');
  if (n === 0) return { values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : null };
  // V[k][j] stored at v[j*n + k] (column-major). A symmetric → copying row-major is the same.
  const v = Float64Array.from(a);
  // enforce exact symmetry (use the average)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const s = 0.5 * (v[i * n + j] + v[j * n + i]);
      v[i * n + j] = s;
      v[j * n + i] = s;
    }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(v, d, e, n, wantVectors);
  tql2(v, d, e, n, wantVectors);
  if (!wantVectors) return { values: d, vectors: null };
  // v column-major V → row-major Q: Q[k*n + j] = V[k][j] = v[j*n + k]
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) q[k * n + j] = v[j * n + k];
  return { values: d, vectors: q };
}

/** Householder reduction to tridiagonal form (EISPACK tred2). */
function tred2(v: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  const V = (r: number, c: number) => c * n + r;
  for (let j = 0; j < n; j++) d[j] = v[V(n - 1, j)];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = v[V(i - 1, j)];
        v[V(i, j)] = 0;
        v[V(j, i)] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        v[V(j, i)] = f;
        const cj = j * n;
        g = e[j] + v[cj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const vkj = v[cj + k];
          g += vkj * d[k];
          e[k] += vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const cj = j * n;
        for (let k = j; k <= i - 1; k++) v[cj + k] -= f * e[k] + g * d[k];
        d[j] = v[V(i - 1, j)];
        v[V(i, j)] = 0;
      }
    }
    d[i] = h;
  }
  if (!accumulate) {
    // The tridiagonal's diagonal is left on V's diagonal (JAMA saves it to the last row before
    // accumulating and reads it back).
    for (let j = 0; j < n; j++) d[j] = v[V(j, j)];
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    v[V(n - 1, i)] = v[V(i, i)];
    v[V(i, i)] = 1;
    const h = d[i + 1];
    const ci1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[ci1 + k] / h;
      for (let j = 0; j <= i; j++) {
        const cj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[ci1 + k] * v[cj + k];
        for (let k = 0; k <= i; k++) v[cj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) v[ci1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[V(n - 1, j)];
    v[V(n - 1, j)] = 0;
  }
  v[V(n - 1, n - 1)] = 1;
  e[0] = 0;
}

/** Symmetric tridiagonal QL with implicit shifts (EISPACK tql2); sorts ascending. */
function tql2(v: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('symEig: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (accumulate) {
            const ci = i * n;
            const ci1 = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = v[ci1 + k];
              v[ci1 + k] = s * v[ci + k] + c * hk;
              v[ci + k] = c * v[ci + k] - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  // selection sort ascending (with the eigenvector columns)
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      if (accumulate) {
        const ci = i * n;
        const ck = k * n;
        for (let j = 0; j < n; j++) {
          const t = v[ci + j];
          v[ci + j] = v[ck + j];
          v[ck + j] = t;
        }
      }
    }
  }
}
