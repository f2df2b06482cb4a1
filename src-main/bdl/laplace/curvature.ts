/**
 * Structured generalised Gauss-Newton (GGN) blocks and the Gaussian posteriors they define
 * (laplace-torch's FullLaplace / DiagLaplace / KronLaplace; Daxberger et al., "Laplace Redux",
 * NeurIPS 2021; Ritter, Botev & Barber, ICLR 2018 for the Kronecker-factored Laplace).
 *
 * A block holds the curvature H of the NEGATIVE log likelihood summed over the N training points
 * for one group of parameters (a layer's weight matrix W̃ = [kernel; bias] flattened row-major):
 *
 *   'full'  H [P, P]
 *   'diag'  h [P]                        (H ≈ diag(h))
 *   'kron'  A [dA, dA], G [dG, dG]       (H ≈ A ⊗ G, P = dA·dG; θ index = i·dG + j)
 *
 * The posterior precision is H + τ I (τ = prior precision), the covariance Σ = (H + τI)⁻¹. A
 * {@link PreparedBlock} caches what a given τ needs: a Cholesky factor (full), 1/√(h + τ) (diag),
 * or the eigendecompositions of A and G with D_ij = λ_i μ_j + τ (kron, Martens & Grosse 2015 §6;
 * Immer et al. 2021 App. for the log-determinant).
 */
import { addDiagonal, cholesky, choleskyInverse, matmul, solveLowerT, transpose } from '../linalg/dense.ts';
import { symEig } from '../linalg/eig.ts';

export type CurvatureStructure = 'full' | 'diag' | 'kron';

export type CurvatureBlock =
  | { structure: 'full'; P: number; H: Float64Array }
  | { structure: 'diag'; P: number; h: Float64Array }
  | {
      structure: 'kron';
      P: number;
      dA: number;
      dG: number;
      /**
       * Eigendecomposition of A: values [rA] (≥ 0) and vectors U [dA, rA] (columns, row-major).
       * rA = dA normally; rA < dA for a low-rank A (the remaining eigenvalues are exactly 0, e.g.
       * A = X̃ᵀX̃ from N < dA examples, see {@link kronBlockLowRank}).
       */
      eigA: { values: Float64Array; vectors: Float64Array };
      /** Eigendecomposition of G: values [dG], vectors [dG, dG]. */
      eigG: { values: Float64Array; vectors: Float64Array };
    };

/** Builds a Kronecker block from its factors (eigendecomposed once; negative rounding → 0). */
export function kronBlock(A: ArrayLike<number>, dA: number, G: ArrayLike<number>, dG: number): CurvatureBlock {
  const ea = symEig(A, dA);
  return kronBlockLowRank({ values: ea.values, vectors: ea.vectors! }, dA, G, dG);
}

/**
 * Kronecker block from a (possibly low-rank) eigendecomposition of A (values [r], vectors
 * [dA, r]) and the factor G [dG, dG].
 */
export function kronBlockLowRank(eigA: { values: ArrayLike<number>; vectors: ArrayLike<number> }, dA: number, G: ArrayLike<number>, dG: number): CurvatureBlock {
  const r = eigA.values.length;
  if (eigA.vectors.length !== dA * r) throw new Error(`kron block: U must be [${dA}, ${r}]`);
  const eg = symEig(G, dG);
  return {
    structure: 'kron',
    P: dA * dG,
    dA,
    dG,
    eigA: { values: Float64Array.from(eigA.values, (v) => Math.max(v, 0)), vectors: Float64Array.from(eigA.vectors) },
    eigG: { values: eg.values.map((v) => Math.max(v, 0)), vectors: eg.vectors! },
  };
}

/** Rank r of the A factor of a Kronecker block. */
export function kronRank(b: Extract<CurvatureBlock, { structure: 'kron' }>): number {
  return b.eigA.values.length;
}

/**
 * Eigenvalues of H (P values): full → eig(H) (values only, ~(4/3)P³), diag → h, kron → λ_i μ_j.
 * Used by the Laplace log marginal likelihood log det(H + τI) = Σ log(λ + τ).
 */
export function blockEigenvalues(b: CurvatureBlock): Float64Array {
  switch (b.structure) {
    case 'full':
      return symEig(b.H, b.P, { vectors: false }).values.map((v) => Math.max(v, 0));
    case 'diag':
      return b.h.map((v) => Math.max(v, 0));
    case 'kron': {
      // r·dG products λ_i μ_j, the remaining (dA − r)·dG eigenvalues are 0
      const out = new Float64Array(b.P);
      const r = kronRank(b);
      for (let i = 0; i < r; i++) for (let j = 0; j < b.dG; j++) out[i * b.dG + j] = b.eigA.values[i] * b.eigG.values[j];
      return out;
    }
  }
}

/** Dense H [P, P] of a block (tests and small blocks only). */
export function blockDense(b: CurvatureBlock): Float64Array {
  switch (b.structure) {
    case 'full':
      return Float64Array.from(b.H);
    case 'diag': {
      const out = new Float64Array(b.P * b.P);
      for (let i = 0; i < b.P; i++) out[i * b.P + i] = b.h[i];
      return out;
    }
    case 'kron': {
      // (Q_A ⊗ Q_G) diag(λ ⊗ μ) (Q_A ⊗ Q_G)ᵀ
      const { dA, dG } = b;
      const A = reconstruct(b.eigA, dA, kronRank(b));
      const G = reconstruct(b.eigG, dG, dG);
      const out = new Float64Array(b.P * b.P);
      for (let i = 0; i < dA; i++)
        for (let j = 0; j < dA; j++)
          for (let r = 0; r < dG; r++) for (let c = 0; c < dG; c++) out[(i * dG + r) * b.P + j * dG + c] = A[i * dA + j] * G[r * dG + c];
      return out;
    }
  }
}

/** U diag(λ) Uᵀ for U [n, r]. */
function reconstruct(e: { values: Float64Array; vectors: Float64Array }, n: number, r: number): Float64Array {
  const qd = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) qd[i * r + j] = e.vectors[i * r + j] * e.values[j];
  return matmul(qd, transpose(e.vectors, n, r), n, r, n);
}

/** A block prepared for a prior precision τ: sampling and covariances of N(0, (H + τI)⁻¹). */
export interface PreparedBlock {
  readonly block: CurvatureBlock;
  readonly priorPrecision: number;
  /** δθ = Σ^{1/2}-type transform of z ~ N(0, I_P): returns a draw of N(0, Σ) [P]. */
  sample(z: ArrayLike<number>): Float64Array;
  /** diag(Σ) [P]. */
  varianceDiagonal(): Float64Array;
  /** Σ [P, P] (tests and small blocks only). */
  covariance(): Float64Array;
  /** 'full' only: the Cholesky factor L of H + τI = L Lᵀ (so Σ = L⁻ᵀ L⁻¹). */
  readonly cholesky?: Float64Array;
}

export function prepareBlock(b: CurvatureBlock, tau: number): PreparedBlock {
  if (!(tau > 0 && Number.isFinite(tau))) throw new Error(`prior precision must be > 0, got ${tau}`);
  switch (b.structure) {
    case 'full': {
      const L = cholesky(addDiagonal(b.H, b.P, tau), b.P);
      let cov: Float64Array | null = null;
      const covariance = () => (cov ??= choleskyInverse(L, b.P));
      return {
        block: b,
        priorPrecision: tau,
        // (H + τI) = L Lᵀ → L⁻ᵀ z ~ N(0, (L Lᵀ)⁻¹)
        sample: (z) => solveLowerT(L, b.P, z),
        varianceDiagonal: () => {
          const c = covariance();
          return Float64Array.from({ length: b.P }, (_, i) => c[i * b.P + i]);
        },
        covariance: () => Float64Array.from(covariance()),
        cholesky: L,
      };
    }
    case 'diag': {
      const sd = b.h.map((v) => 1 / Math.sqrt(Math.max(v, 0) + tau));
      return {
        block: b,
        priorPrecision: tau,
        sample: (z) => Float64Array.from(sd, (s, i) => s * z[i]),
        varianceDiagonal: () => sd.map((s) => s * s),
        covariance: () => {
          const out = new Float64Array(b.P * b.P);
          for (let i = 0; i < b.P; i++) out[i * b.P + i] = sd[i] * sd[i];
          return out;
        },
      };
    }
    case 'kron': {
      const { dA, dG } = b;
      const r = kronRank(b);
      const U = b.eigA.vectors; // [dA, r]
      const qg = b.eigG.vectors; // [dG, dG]
      const qgT = transpose(qg, dG, dG);
      const UT = transpose(U, dA, r);
      // D_ij = λ_i μ_j + τ over the r non-trivial directions of A; τ on the complement
      const dInv = new Float64Array(r * dG);
      for (let i = 0; i < r; i++) for (let j = 0; j < dG; j++) dInv[i * dG + j] = 1 / (b.eigA.values[i] * b.eigG.values[j] + tau);
      const dInvSqrt = dInv.map(Math.sqrt);
      const sTau = 1 / Math.sqrt(tau);
      return {
        block: b,
        priorPrecision: tau,
        // Σ^{1/2} z with the symmetric square root, in matrix form (row-major vec identity
        // (A ⊗ B) vec_r(X) = vec_r(A X Bᵀ)), Z = reshape(z, [dA, dG]):
        //   δW = U [(Uᵀ Z Q_G) ⊙ D^{-1/2}] Q_Gᵀ + τ^{-1/2} (Z − U Uᵀ Z)
        sample: (z) => {
          const Z = Float64Array.from(z);
          const UtZ = matmul(UT, Z, r, dA, dG); // [r, dG]
          const proj = matmul(UtZ, qg, r, dG, dG).map((v, i) => v * dInvSqrt[i]);
          const main = matmul(U, matmul(proj, qgT, r, dG, dG), dA, r, dG);
          if (r === dA) {
            // U Uᵀ = I: no complement
            return main;
          }
          const UUtZ = matmul(U, UtZ, dA, r, dG);
          for (let i = 0; i < main.length; i++) main[i] += sTau * (Z[i] - UUtZ[i]);
          return main;
        },
        // diag Σ_(a,c) = Σ_ij U_ai² QG_cj² (1/D_ij − 1/τ) + 1/τ
        varianceDiagonal: () => {
          const U2 = U.map((v) => v * v);
          const qg2T = transpose(qg.map((v) => v * v), dG, dG);
          const dd = dInv.map((v) => v - 1 / tau);
          return matmul(matmul(U2, dd, dA, r, dG), qg2T, dA, dG, dG).map((v) => v + 1 / tau);
        },
        covariance: () => {
          // Σ = (U ⊗ Q_G)(D⁻¹ − τ⁻¹)(U ⊗ Q_G)ᵀ + τ⁻¹ I
          const P = b.P;
          const out = new Float64Array(P * P);
          for (let a = 0; a < dA; a++)
            for (let c = 0; c < dG; c++)
              for (let a2 = 0; a2 < dA; a2++)
                for (let c2 = 0; c2 < dG; c2++) {
                  let v = 0;
                  for (let i = 0; i < r; i++) {
                    const uu = U[a * r + i] * U[a2 * r + i];
                    if (uu === 0) continue;
                    for (let j = 0; j < dG; j++) v += uu * qg[c * dG + j] * qg[c2 * dG + j] * (dInv[i * dG + j] - 1 / tau);
                  }
                  if (a === a2 && c === c2) v += 1 / tau;
                  out[(a * dG + c) * P + a2 * dG + c2] = v;
                }
          return out;
        },
      };
    }
  }
}

// ---------------------------------------------------------------- (de)serialisation

/** Float64Array ↔ base64 (little-endian bytes), for JSON state. */
export function f64ToBase64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function base64ToF64(s: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float64Array(buf.byteLength / 8);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Float32 precision is enough for large diagonal curvature (P ≈ 5·10⁵ for 'all'). */
export function f32ToBase64(a: ArrayLike<number>): string {
  const f = Float32Array.from(a);
  return Buffer.from(f.buffer).toString('base64');
}

export function base64ToF32(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

export type SerializedBlock =
  | { structure: 'full'; P: number; H: string }
  | { structure: 'diag'; P: number; h: string; f32?: boolean }
  | { structure: 'kron'; P: number; dA: number; dG: number; valuesA: string; vectorsA: string; valuesG: string; vectorsG: string; f32?: boolean };

export function serializeBlock(b: CurvatureBlock): SerializedBlock {
  switch (b.structure) {
    case 'full':
      return { structure: 'full', P: b.P, H: f64ToBase64(b.H) };
    case 'diag':
      return b.P > 65536 ? { structure: 'diag', P: b.P, h: f32ToBase64(b.h), f32: true } : { structure: 'diag', P: b.P, h: f64ToBase64(b.h) };
    case 'kron': {
      // large (low-rank) U factors are stored in float32
      const f32 = b.eigA.vectors.length > 65536;
      return {
        structure: 'kron',
        P: b.P,
        dA: b.dA,
        dG: b.dG,
        valuesA: f64ToBase64(b.eigA.values),
        vectorsA: f32 ? f32ToBase64(b.eigA.vectors) : f64ToBase64(b.eigA.vectors),
        valuesG: f64ToBase64(b.eigG.values),
        vectorsG: f64ToBase64(b.eigG.vectors),
        ...(f32 ? { f32: true } : {}),
      };
    }
  }
}

export function deserializeBlock(s: SerializedBlock): CurvatureBlock {
  const check = (n: number, want: number, what: string) => {
    if (n !== want) throw new Error(`deserialize: curvature ${what} has ${n} values, expected ${want}`);
  };
  switch (s.structure) {
    case 'full': {
      const H = base64ToF64(s.H);
      check(H.length, s.P * s.P, 'H');
      return { structure: 'full', P: s.P, H };
    }
    case 'diag': {
      const h = s.f32 ? Float64Array.from(base64ToF32(s.h)) : base64ToF64(s.h);
      check(h.length, s.P, 'h');
      return { structure: 'diag', P: s.P, h };
    }
    case 'kron': {
      const b = {
        structure: 'kron' as const,
        P: s.P,
        dA: s.dA,
        dG: s.dG,
        eigA: { values: base64ToF64(s.valuesA), vectors: s.f32 ? Float64Array.from(base64ToF32(s.vectorsA)) : base64ToF64(s.vectorsA) },
        eigG: { values: base64ToF64(s.valuesG), vectors: base64ToF64(s.vectorsG) },
      };
      check(b.eigA.vectors.length, s.dA * b.eigA.values.length, 'U_A');
      check(b.eigG.vectors.length, s.dG * s.dG, 'Q_G');
      check(s.dA * s.dG, s.P, 'P');
      return b;
    }
    default:
      throw new Error(`deserialize: unknown curvature structure ${(s as { structure: string }).structure}`);
  }
}
