/**
 * Tensor (tfjs) forms of the last-layer Gaussian posterior N(W̃*, Σ) over W̃ [D+1, C], for the
 * predictive of the 'laplace' (subsetOfWeights 'last-layer') and 'last-layer' posteriors:
 *
 * - weight samples W̃_s = W̃* + δ_s, δ_s = Σ^{1/2}-transform of z_s (curvature.ts), laid out as
 *   one [D+1, S·C] matrix so the logits of S samples are one matmul φ̃ [B, D+1] · W [D+1, S·C];
 * - GLM logit variances diag(J Σ Jᵀ) [B, C], J = φ̃ᵀ ⊗ I_C (linear.ts `linearGlmPredictive` is the
 *   float64 reference):
 *     diag  Σ_i φ̃_i² σ²_{i,c}
 *     kron  Σ_j Q_G[c,j]² w_j,  w_j = Σ_i (Uᵀφ̃)_i² / (λ_i μ_j + τ) + (‖φ̃‖² − ‖Uᵀφ̃‖²)/τ
 *     full  ‖((φ̃ᵀ ⊗ I) L⁻ᵀ)_c‖²  with H + τI = L Lᵀ.
 */
import * as tf from '@tensorflow/tfjs';
import { invertLower } from '../linalg/dense.ts';
import { standardNormal } from '../linalg/random.ts';
import type { PreparedBlock } from './curvature.ts';

/**
 * S weight draws as one Float32Array [D+1, S·C] (column s·C + c = class c of sample s).
 * @param mean W̃* [D+1, C] (row-major)
 */
export function sampleLinearWeights(prepared: PreparedBlock, mean: ArrayLike<number>, dA: number, c: number, samples: number, seed: number): Float32Array {
  const P = dA * c;
  if (prepared.block.P !== P || mean.length !== P) throw new Error(`sampleLinearWeights: expected ${dA}·${c} parameters`);
  const out = new Float32Array(dA * samples * c);
  const z = standardNormal(samples * P, seed);
  for (let s = 0; s < samples; s++) {
    const d = prepared.sample(z.subarray(s * P, (s + 1) * P));
    for (let i = 0; i < dA; i++) for (let k = 0; k < c; k++) out[i * samples * c + s * c + k] = mean[i * c + k] + d[i * c + k];
  }
  return out;
}

/** Logits [S, B, C] of S stacked weight samples W [D+1, S·C] at features z [B, D] (inside tidy). */
export function stackedLogits(z: tf.Tensor2D, w: tf.Tensor2D, samples: number, c: number): tf.Tensor3D {
  const b = z.shape[0];
  const phi = tf.concat([z, tf.ones([b, 1])], 1);
  const logits = tf.reshape(tf.matMul(phi, w), [b, samples, c]);
  return tf.transpose(logits, [1, 0, 2]) as tf.Tensor3D;
}

/** GLM variance operator of a last-layer block (call `dispose` when done). */
export interface GlmVarianceOp {
  /** features z [B, D] → diag(J Σ Jᵀ) [B, C] (inside tidy). */
  variance(z: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

export function glmVarianceOp(prepared: PreparedBlock, dA: number, c: number): GlmVarianceOp {
  const b = prepared.block;
  if (b.P !== dA * c) throw new Error(`glmVarianceOp: block has ${b.P} parameters, expected ${dA}·${c}`);
  const withOnes = (z: tf.Tensor2D) => tf.concat([z, tf.ones([z.shape[0], 1])], 1) as tf.Tensor2D;
  if (b.structure === 'diag') {
    const V = tf.tensor2d(Float32Array.from(prepared.varianceDiagonal()), [dA, c]);
    return { variance: (z) => tf.matMul(tf.square(withOnes(z)), V), dispose: () => V.dispose() };
  }
  if (b.structure === 'kron') {
    const r = b.eigA.values.length;
    const tau = prepared.priorPrecision;
    const dinv = new Float32Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) dinv[i * c + j] = 1 / (b.eigA.values[i] * b.eigG.values[j] + tau);
    const U = tf.tensor2d(Float32Array.from(b.eigA.vectors), [dA, r]);
    const Dinv = tf.tensor2d(dinv, [r, c]);
    const QG2 = tf.tensor2d(Float32Array.from(b.eigG.vectors, (v) => v * v), [c, c]);
    return {
      variance: (z) => {
        const phi = withOnes(z);
        const ah = tf.matMul(phi, U);
        const rest = tf.relu(tf.sub(tf.sum(tf.square(phi), 1, true), tf.sum(tf.square(ah), 1, true)));
        const w = tf.add(tf.matMul(tf.square(ah), Dinv), tf.div(rest, tau));
        return tf.matMul(w, QG2, false, true);
      },
      dispose: () => [U, Dinv, QG2].forEach((t) => t.dispose()),
    };
  }
  // full: U = L⁻ᵀ [P, P] viewed as [dA, C·P]
  const P = b.P;
  const Linv = invertLower(prepared.cholesky!, P);
  const U = new Float32Array(P * P);
  for (let i = 0; i < P; i++) for (let j = 0; j <= i; j++) U[j * P + i] = Linv[i * P + j];
  const Ut = tf.tensor2d(U, [dA, c * P]);
  return {
    variance: (z) => {
      const t = tf.reshape(tf.matMul(withOnes(z), Ut), [z.shape[0], c, P]);
      return tf.sum(tf.square(t), 2) as tf.Tensor2D;
    },
    dispose: () => Ut.dispose(),
  };
}

/** Probit-approximated softmax (MacKay 1992; laplace-torch 'probit'): softmax(μ/√(1 + π/8 σ²)) [B, C]. */
export function probitTensor(mean: tf.Tensor2D, variance: tf.Tensor2D): tf.Tensor2D {
  return tf.softmax(tf.div(mean, tf.sqrt(tf.add(1, tf.mul(Math.PI / 8, tf.relu(variance)))))) as tf.Tensor2D;
}
