/**
 * GGN curvature of the softmax NLL with respect to the LoRA parameters (A_l, B_l of every adapted
 * layer) and the head — Laplace-LoRA (Yang, Robeyns, Wang & Aitchison, "Bayesian Low-rank
 * Adaptation for Large Language Models", ICLR 2024), with laplace-torch's diag / KFAC structures.
 *
 * Each LoRA factor acts like a bias-free dense layer (s_l = x W + b + c·(x A) B, c = α/r):
 *   ∂s/∂B: input u = c·x A [r], output signal δ_l          → per-example gradient u ⊗ δ_l
 *   ∂s/∂A: input x [in],         output signal c·δ_l Bᵀ     → x ⊗ (c δ_l Bᵀ)
 *   head:  input [z; 1] [D + 1], output signal m            → [z; 1] ⊗ m
 * where δ_l = ∂(mᵀ f)/∂s_l for the C square-root directions m_c = √p_c (e_c − p) of the softmax
 * Hessian Λ = diag(p) − ppᵀ (Martens 2014), all obtained in one backward pass over the batch
 * replicated C times (as laplace/network.ts). Blocks (block-diagonal over factors):
 *   'diag' h = Σ_n Σ_c g² (exact GGN diagonal);
 *   'kron' A = Σ_n ã ãᵀ, G = 1/N Σ_{n,c} δ δᵀ, H ≈ A ⊗ G (Martens & Grosse 2015), falling back
 *          to 'diag' for a factor with a side over KRON_MAX_DIM.
 * θ layout of a block = the weight matrix [dA, dG] row-major (the head: kernel rows, then bias).
 */
import * as tf from '@tensorflow/tfjs';
import { kronBlock, type CurvatureBlock } from '../laplace/curvature.ts';
import { KRON_MAX_DIM } from '../laplace/network.ts';
import { CancelledError } from '../posterior/types.ts';
import { imagesToTensor, yieldToEventLoop } from '../util/tensors.ts';
import type { LoraNetwork, LoraWeights } from './network.ts';

/** A parameter group: its weight matrix is [dA, dG]. */
export interface LoraFactor {
  name: string;
  dA: number;
  dG: number;
}

/** The factors of a set, in the order of {@link LoraNetwork.setVariables}: A_1, B_1, …, head. */
export function loraFactors(net: LoraNetwork): LoraFactor[] {
  const r = net.settings.rank;
  const out: LoraFactor[] = [];
  for (const a of net.adaptedLayers) out.push({ name: `${a.name}/A`, dA: a.in, dG: r }, { name: `${a.name}/B`, dA: r, dG: a.out });
  out.push({ name: 'head', dA: net.featureDim + 1, dG: net.settings.numClasses });
  return out;
}

export interface LoraCurvature {
  blocks: CurvatureBlock[];
  /** Structure used per factor ('diag' or 'kron'). */
  structures: ('diag' | 'kron')[];
  /** Σ_n log p(y_n | x_n, θ*). */
  logLikelihood: number;
}

/**
 * Inputs ã [B, dA] and output signals [C·B, dG] (replica-major) of every factor for one batch, at
 * the weights `w`, with output directions dy(logits) [C·B, C]. Inside tidy.
 */
export function factorSignals(
  net: LoraNetwork,
  h: tf.Tensor,
  w: LoraWeights,
  C: number,
  dyOf: (logits: tf.Tensor2D) => tf.Tensor2D,
): { logits: tf.Tensor2D; inputs: tf.Tensor2D[]; signals: tf.Tensor2D[] } {
  const B = h.shape[0];
  const c = net.scale;
  const forward = net.suffix(h, w);
  const dy = dyOf(forward.logits);
  const hr = tf.tile(h, [C, ...h.shape.slice(1).map(() => 1)]);
  const zeros = net.adaptedLayers.map((a) => tf.zeros([C * B, a.out]));
  const deltas = tf.grads((...eps: tf.Tensor[]) => net.suffix(hr, w, eps).logits)(zeros, dy) as tf.Tensor2D[];
  const inputs: tf.Tensor2D[] = [];
  const signals: tf.Tensor2D[] = [];
  net.adaptedLayers.forEach((_, l) => {
    const x = forward.inputs[l];
    inputs.push(x, tf.mul(tf.matMul(x, w.A[l]), c) as tf.Tensor2D);
    signals.push(tf.mul(tf.matMul(deltas[l], w.B[l], false, true), c) as tf.Tensor2D, deltas[l]);
  });
  inputs.push(tf.concat([forward.features, tf.ones([B, 1])], 1) as tf.Tensor2D);
  signals.push(dy);
  return { logits: forward.logits, inputs, signals };
}

/** Per-batch curvature terms of a factor: diag → [h [dA, dG]]; kron → [ãᵀã, δᵀδ]. Inside tidy. */
function factorTerms(a: tf.Tensor2D, d: tf.Tensor2D, structure: 'diag' | 'kron', C: number): tf.Tensor[] {
  const B = a.shape[0];
  if (structure === 'diag') {
    const dsq = tf.sum(tf.reshape(tf.square(d), [C, B, d.shape[1]]), 0) as tf.Tensor2D; // Σ_c δ² [B, dG]
    return [tf.matMul(tf.square(a), dsq, true, false)];
  }
  return [tf.matMul(a, a, true, false), tf.matMul(d, d, true, false)];
}

/**
 * GGN blocks of set k's LoRA parameters and head at their current values over (x, y).
 * @param x uint8 images [N, H, W, C]; y int32 labels [N]
 */
export async function loraCurvature(
  net: LoraNetwork,
  k: number,
  x: Uint8Array,
  y: Int32Array,
  structure: 'diag' | 'kron',
  opts: { batchSize?: number; shouldStop?: () => boolean } = {},
): Promise<LoraCurvature> {
  const C = net.settings.numClasses;
  const shape = net.settings.imageShape;
  const n = y.length;
  const factors = loraFactors(net);
  const structures = factors.map((f) => (structure === 'kron' && f.dA <= KRON_MAX_DIM && f.dG <= KRON_MAX_DIM ? 'kron' : 'diag'));
  const acc = factors.map((f, i) => (structures[i] === 'diag' ? [new Float64Array(f.dA * f.dG)] : [new Float64Array(f.dA * f.dA), new Float64Array(f.dG * f.dG)]));
  const w = net.weights(k);
  const batchSize = opts.batchSize ?? 32;
  let logLik = 0;
  for (let start = 0; start < n; start += batchSize) {
    if (opts.shouldStop?.()) throw new CancelledError('Laplace curvature cancelled');
    const count = Math.min(batchSize, n - start);
    const labels = y.subarray(start, start + count);
    const results = tf.tidy(() => {
      const h = net.prefix(imagesToTensor(x, shape, { start, count }));
      const s = factorSignals(net, h, w, C, (logits) => {
        // replica c, image b: m = √p_c (e_c − p)
        const p = tf.softmax(logits);
        const e = tf.reshape(tf.tile(tf.expandDims(tf.eye(C), 1), [1, count, 1]), [C * count, C]);
        const sqrtPc = tf.reshape(tf.transpose(tf.sqrt(p)), [C * count, 1]);
        return tf.mul(sqrtPc, tf.sub(e, tf.tile(p, [C, 1]))) as tf.Tensor2D;
      });
      const ll = tf.sum(tf.mul(tf.logSoftmax(s.logits), tf.oneHot(tf.tensor1d(labels, 'int32'), C)));
      return [ll, ...factors.flatMap((_, i) => factorTerms(s.inputs[i], s.signals[i], structures[i], C))];
    });
    try {
      logLik += (await results[0].data())[0];
      let t = 1;
      for (const parts of acc) {
        for (const part of parts) {
          const v = await results[t++].data();
          for (let j = 0; j < v.length; j++) part[j] += v[j];
        }
      }
    } finally {
      tf.dispose(results);
    }
    await yieldToEventLoop();
  }
  const blocks = factors.map((f, i): CurvatureBlock => {
    if (structures[i] === 'diag') return { structure: 'diag', P: f.dA * f.dG, h: acc[i][0] };
    return kronBlock(acc[i][0], f.dA, acc[i][1].map((v) => v / n), f.dG);
  });
  return { blocks, structures, logLikelihood: logLik };
}
