/**
 * Curvature, weight sampling and the linearised predictive of the WHOLE Gal CNN
 * (subsetOfWeights 'all'), on tfjs tensors.
 *
 * The network is re-expressed as a function of explicit weights (dropout off = the deterministic
 * network, Srivastava et al. 2014 weight scaling):
 *
 *   s1 = conv(x; K1) + b1, h1 = relu(s1); s2 = conv(h1; K2) + b2, h2 = relu(s2);
 *   f = flatten(maxpool(h2)); s3 = f W3 + b3, z = relu(s3); logits s4 = z W4 + b4.
 *
 * Per-example, per-output backpropagated signals δ_l = ∂(mᵀ s4)/∂s_l are obtained in ONE
 * backward pass for all C output directions m_1..m_C: the batch is replicated C times
 * ([C·B] rows, replica c uses dy = m_c) and the gradient is taken w.r.t. zero perturbations added
 * to every pre-activation s_l (so δ_l = ∂/∂ε_l). A layer's per-example gradient is then
 * δ ⊗ ã (dense, ã = [a; 1]) or Σ_positions patch ⊗ δ (conv, im2col).
 *
 * GGN (Martens 2014) of the softmax NLL: Λ_n = diag(p_n) − p_n p_nᵀ = Σ_c m_c m_cᵀ with
 * m_c = √p_c (e_c − p) (a square root of Λ), hence H = Σ_n Σ_c g_{n,c} g_{n,c}ᵀ with
 * g_{n,c} = J_nᵀ m_c — exact for the diagonal ('diag'), and for KFAC (Martens & Grosse 2015)
 * A = Σ_n ã_n ã_nᵀ, G = 1/N Σ_n Σ_c δ_{n,c} δ_{n,c}ᵀ, H_layer ≈ A ⊗ G.
 *
 * Structures used for 'all' (block-diagonal over layers, as laplace-torch):
 *   'diag' → every layer diagonal;
 *   'kron' → dense layers KFAC; the A factor of dense1 (input 3872 + 1 at 28×28) is too large to
 *            eigendecompose, but A = X̃ᵀX̃ has rank ≤ N, so it is eigendecomposed through the
 *            N×N Gram matrix X̃X̃ᵀ (exact, low rank; eigenvalue 0 on the complement) when
 *            N ≤ {@link LOW_RANK_MAX_N}, else that layer falls back to 'diag'; conv layers 'diag'.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { symEig } from '../linalg/eig.ts';
import { CancelledError } from '../posterior/types.ts';
import { kronBlock, kronBlockLowRank, type CurvatureBlock, type PreparedBlock } from './curvature.ts';

/** Dense factors up to this size are eigendecomposed directly (129×129 for the last layer). */
export const KRON_MAX_DIM = 1024;
/** Largest N for the Gram-matrix (low-rank) eigendecomposition of a big A factor. */
export const LOW_RANK_MAX_N = 2048;

export type LayerKind = 'conv' | 'dense';

export interface NetworkLayer {
  name: string;
  kind: LayerKind;
  /** Kernel shape: [kh, kw, cin, cout] (conv) or [in, out] (dense). */
  kernelShape: number[];
  /** Rows of W̃ without the bias: kh·kw·cin or in. */
  fanIn: number;
  out: number;
  /** Number of parameters (fanIn + 1)·out. */
  P: number;
}

export const NETWORK_LAYER_NAMES = ['conv1', 'conv2', 'dense1', 'logits'] as const;

/** The four parametrised layers of the Gal CNN, in order (or the named ones, e.g. ['logits'] of either architecture). */
export function networkLayers(net: ConvNet, names: readonly string[] = NETWORK_LAYER_NAMES): NetworkLayer[] {
  return names.map((name) => {
    const w = net.model.getLayer(name).getWeights();
    const kernelShape = [...w[0].shape];
    const out = kernelShape[kernelShape.length - 1];
    const fanIn = kernelShape.slice(0, -1).reduce((a, b) => a * b, 1);
    return { name, kind: kernelShape.length === 4 ? 'conv' : 'dense', kernelShape, fanIn, out, P: (fanIn + 1) * out };
  });
}

/** Total number of network parameters P. */
export function countParameters(layers: NetworkLayer[]): number {
  return layers.reduce((s, l) => s + l.P, 0);
}

/** Current weights per layer as θ = [kernel (row-major), bias] in float64 (default: the Gal CNN's four layers). */
export async function readParameters(net: ConvNet, names: readonly string[] = NETWORK_LAYER_NAMES): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const name of names) {
    const [k, b] = net.model.getLayer(name).getWeights();
    const kv = await k.data();
    const bv = await b.data();
    const theta = new Float64Array(kv.length + bv.length);
    theta.set(kv, 0);
    theta.set(bv, kv.length);
    out.push(theta);
  }
  return out;
}

export interface LayerWeights {
  kernel: tf.Tensor;
  bias: tf.Tensor1D;
}

/** The network's own weight variables (not to be disposed). */
export function networkWeights(net: ConvNet): LayerWeights[] {
  return NETWORK_LAYER_NAMES.map((name) => {
    const [kernel, bias] = net.model.getLayer(name).getWeights();
    return { kernel, bias: bias as tf.Tensor1D };
  });
}

/** θ [P] (kernel then bias) → weight tensors of a layer. */
export function weightsFromTheta(layer: NetworkLayer, theta: ArrayLike<number>): LayerWeights {
  const nk = layer.fanIn * layer.out;
  return {
    kernel: tf.tensor(Float32Array.from({ length: nk }, (_, i) => theta[i]), layer.kernelShape, 'float32'),
    bias: tf.tensor1d(Float32Array.from({ length: layer.out }, (_, i) => theta[nk + i]), 'float32'),
  };
}

function poolConfig(net: ConvNet): { size: [number, number]; strides: [number, number] } {
  const cfg = net.model.getLayer('pool').getConfig() as { poolSize?: number | number[]; strides?: number | number[] | null; padding?: string };
  const two = (v: number | number[] | null | undefined, d: [number, number]): [number, number] =>
    v == null ? d : Array.isArray(v) ? [v[0], v[1]] : [v, v];
  const size = two(cfg.poolSize, [2, 2]);
  if (cfg.padding && cfg.padding !== 'valid') throw new Error(`laplace: pool padding '${cfg.padding}' is not supported`);
  return { size, strides: two(cfg.strides, size) };
}

export interface ForwardResult {
  logits: tf.Tensor2D;
  /** Inputs of conv1, conv2, dense1, logits: x, h1, flatten(pool(h2)), z. */
  inputs: [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D, tf.Tensor2D];
}

/**
 * The deterministic Gal CNN with explicit weights; `eps` (optional) are added to the four
 * pre-activations (zeros → same output; their gradients are the δ's). Call inside tf.tidy.
 */
export function functionalForward(
  x: tf.Tensor4D,
  w: LayerWeights[],
  pool: { size: [number, number]; strides: [number, number] },
  eps?: tf.Tensor[],
): ForwardResult {
  const add = (t: tf.Tensor, i: number) => (eps ? tf.add(t, eps[i]) : t);
  const s1 = add(tf.add(tf.conv2d(x, w[0].kernel as tf.Tensor4D, 1, 'valid'), w[0].bias), 0) as tf.Tensor4D;
  const h1 = tf.relu(s1);
  const s2 = add(tf.add(tf.conv2d(h1, w[1].kernel as tf.Tensor4D, 1, 'valid'), w[1].bias), 1) as tf.Tensor4D;
  const h2 = tf.relu(s2);
  const p = tf.maxPool(h2, pool.size, pool.strides, 'valid');
  const flat = tf.reshape(p, [p.shape[0], -1]) as tf.Tensor2D;
  const s3 = add(tf.add(tf.matMul(flat, w[2].kernel as tf.Tensor2D), w[2].bias), 2) as tf.Tensor2D;
  const z = tf.relu(s3);
  const logits = add(tf.add(tf.matMul(z, w[3].kernel as tf.Tensor2D), w[3].bias), 3) as tf.Tensor2D;
  return { logits, inputs: [x, h1, flat, z] };
}

/** im2col: x [B, H, W, Cin] → patches [B, Ho·Wo, kh·kw·Cin] in the kernel's (i, j, cin) order. */
export function extractPatches(x: tf.Tensor4D, kh: number, kw: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, wd, cin] = x.shape;
    const ho = h - kh + 1;
    const wo = wd - kw + 1;
    const parts: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) parts.push(tf.slice(x, [0, i, j, 0], [b, ho, wo, cin]));
    return tf.reshape(tf.concat(parts, 3), [b, ho * wo, kh * kw * cin]) as tf.Tensor3D;
  });
}

/**
 * δ's of every layer for C output directions at once. `dy` [C·B, C] (row c·B + b = direction for
 * image b in replica c). Returns the four δ tensors with C·B rows (replica-major) plus the forward
 * of the un-replicated batch. Call inside tf.tidy.
 */
function replicatedDeltas(
  x: tf.Tensor4D,
  w: LayerWeights[],
  pool: { size: [number, number]; strides: [number, number] },
  replicas: number,
  dyOf: (logits: tf.Tensor2D) => tf.Tensor2D,
): { forward: ForwardResult; deltas: tf.Tensor[] } {
  const forward = functionalForward(x, w, pool);
  const dy = dyOf(forward.logits);
  const xr = tf.tile(x, [replicas, 1, 1, 1]) as tf.Tensor4D;
  const shapes = [
    [replicas * x.shape[0], ...forward.inputs[1].shape.slice(1)],
    [replicas * x.shape[0], ...preActivationShape2(forward, w)],
    [replicas * x.shape[0], w[2].bias.shape[0]],
    [replicas * x.shape[0], w[3].bias.shape[0]],
  ];
  const zeros = shapes.map((s) => tf.zeros(s));
  const g = tf.grads((e1: tf.Tensor, e2: tf.Tensor, e3: tf.Tensor, e4: tf.Tensor) => functionalForward(xr, w, pool, [e1, e2, e3, e4]).logits);
  const deltas = g(zeros, dy);
  return { forward, deltas };
}

/** [H2, W2, C2] of conv2's output (before pooling). */
function preActivationShape2(f: ForwardResult, w: LayerWeights[]): number[] {
  const [, h1h, h1w] = f.inputs[1].shape;
  const [kh, kw, , cout] = w[1].kernel.shape;
  return [h1h - kh + 1, h1w - kw + 1, cout];
}

/** Running sums of the curvature of one layer. */
interface LayerAccumulator {
  layer: NetworkLayer;
  structure: 'diag' | 'kron' | 'kron-lowrank';
  diag?: Float64Array;
  A?: Float64Array;
  G?: Float64Array;
  /** X̃ rows (float32) for the low-rank A. */
  rows?: Float32Array[];
}

export interface NetworkCurvatureResult {
  blocks: CurvatureBlock[];
  /** Per-layer structure actually used ('diag', 'kron', 'kron-lowrank'). */
  structures: string[];
  /** Σ_n log p(y_n | x_n, θ*) of the deterministic network. */
  logLikelihood: number;
  examples: number;
}

/** Chooses the per-layer structure for subsetOfWeights 'all' (see module doc). */
export function planStructures(layers: NetworkLayer[], structure: 'diag' | 'kron', n: number): LayerAccumulator['structure'][] {
  return layers.map((l) => {
    if (structure === 'diag' || l.kind === 'conv') return 'diag';
    if (l.fanIn + 1 <= KRON_MAX_DIM && l.out <= KRON_MAX_DIM) return 'kron';
    return n <= LOW_RANK_MAX_N && l.out <= KRON_MAX_DIM ? 'kron-lowrank' : 'diag';
  });
}

/**
 * GGN of the summed NLL over (x, y) for every layer (subsetOfWeights 'all').
 * @param images function returning the float32 image batch [B, H, W, C] for rows [start, start+count)
 * @param labels [N]
 */
export async function networkCurvature(
  net: ConvNet,
  n: number,
  images: (start: number, count: number) => tf.Tensor4D,
  labels: Int32Array,
  structure: 'diag' | 'kron',
  opts: { batchSize?: number; shouldStop?: () => boolean; onProgress?: (fraction: number) => void } = {},
): Promise<NetworkCurvatureResult> {
  const layers = networkLayers(net);
  const C = layers[3].out;
  const plan = planStructures(layers, structure, n);
  const acc: LayerAccumulator[] = layers.map((layer, i) => {
    const s = plan[i];
    if (s === 'diag') return { layer, structure: s, diag: new Float64Array(layer.P) };
    if (s === 'kron') return { layer, structure: s, A: new Float64Array((layer.fanIn + 1) ** 2), G: new Float64Array(layer.out ** 2) };
    return { layer, structure: s, G: new Float64Array(layer.out ** 2), rows: [] };
  });
  const w = networkWeights(net);
  const pool = poolConfig(net);
  const batchSize = opts.batchSize ?? 8;
  let logLik = 0;
  for (let start = 0; start < n; start += batchSize) {
    if (opts.shouldStop?.()) throw new CancelledError('Laplace curvature cancelled');
    const count = Math.min(batchSize, n - start);
    const x = images(start, count);
    try {
      const y = tf.tensor1d(labels.subarray(start, start + count), 'int32');
      const results = tf.tidy(() => {
        const { forward, deltas } = replicatedDeltas(x, w, pool, C, (logits) => {
          const p = tf.softmax(logits);
          // replica c, image b: m = √p_c (e_c − p)
          const eye = tf.oneHot(tf.range(0, C, 1, 'int32'), C).toFloat(); // [C, C]
          const e = tf.reshape(tf.tile(tf.expandDims(eye, 1), [1, count, 1]), [C * count, C]);
          const pr = tf.tile(p, [C, 1]);
          const sqrtPc = tf.reshape(tf.transpose(tf.sqrt(p)), [C * count, 1]);
          return tf.mul(sqrtPc, tf.sub(e, pr)) as tf.Tensor2D;
        });
        const ll = tf.sum(tf.mul(tf.logSoftmax(forward.logits), tf.oneHot(y, C).toFloat()));
        const out: tf.Tensor[] = [ll];
        layers.forEach((layer, i) => {
          const a = forward.inputs[i];
          const d = deltas[i];
          out.push(...layerCurvatureTerms(layer, acc[i].structure, a, d, C, count));
        });
        return out;
      });
      y.dispose();
      try {
        logLik += (await results[0].data())[0];
        let k = 1;
        for (let i = 0; i < layers.length; i++) {
          const a = acc[i];
          if (a.structure === 'diag') {
            const kv = await results[k++].data();
            const bv = await results[k++].data();
            for (let j = 0; j < kv.length; j++) a.diag![j] += kv[j];
            for (let j = 0; j < bv.length; j++) a.diag![kv.length + j] += bv[j];
          } else if (a.structure === 'kron') {
            const av = await results[k++].data();
            const gv = await results[k++].data();
            for (let j = 0; j < av.length; j++) a.A![j] += av[j];
            for (let j = 0; j < gv.length; j++) a.G![j] += gv[j];
          } else {
            const rows = (await results[k++].data()) as Float32Array;
            const gv = await results[k++].data();
            a.rows!.push(rows);
            for (let j = 0; j < gv.length; j++) a.G![j] += gv[j];
          }
        }
      } finally {
        results.forEach((t) => t.dispose());
      }
    } finally {
      x.dispose();
    }
    opts.onProgress?.(Math.min(1, (start + count) / n));
    await new Promise((r) => setImmediate(r));
  }
  const blocks: CurvatureBlock[] = acc.map((a) => {
    const l = a.layer;
    if (a.structure === 'diag') return { structure: 'diag', P: l.P, h: a.diag! };
    const G = a.G!.map((v) => v / n);
    if (a.structure === 'kron') return kronBlock(a.A!, l.fanIn + 1, G, l.out);
    return kronBlockLowRank(lowRankEig(a.rows!, n, l.fanIn + 1), l.fanIn + 1, G, l.out);
  });
  return { blocks, structures: acc.map((a) => a.structure), logLikelihood: logLik, examples: n };
}

/**
 * The curvature terms of one layer for one batch (inside tidy), as tensors in a fixed order:
 * diag → [kernel [fanIn, out], bias [out]]; kron → [A, G]; kron-lowrank → [X̃ rows, G].
 */
function layerCurvatureTerms(layer: NetworkLayer, structure: LayerAccumulator['structure'], a: tf.Tensor, d: tf.Tensor, C: number, B: number): tf.Tensor[] {
  if (layer.kind === 'dense') {
    const a2 = a as tf.Tensor2D; // [B, in]
    const d2 = d as tf.Tensor2D; // [C·B, out]
    if (structure === 'diag') {
      // Σ_n a_n² Σ_c δ_{n,c}²
      const dsq = tf.sum(tf.reshape(tf.square(d2), [C, B, layer.out]), 0) as tf.Tensor2D; // [B, out]
      return [tf.matMul(tf.square(a2), dsq, true, false), tf.sum(dsq, 0)];
    }
    const at = tf.concat([a2, tf.ones([B, 1])], 1) as tf.Tensor2D;
    const G = tf.matMul(d2, d2, true, false);
    if (structure === 'kron') return [tf.matMul(at, at, true, false), G];
    return [at, G];
  }
  // conv: per-example gradient J_{n,c} = P_nᵀ Δ_{n,c}; bias Σ_pos Δ
  const [kh, kw] = layer.kernelShape;
  const patches = extractPatches(a as tf.Tensor4D, kh, kw); // [B, T, K]
  const [, ho, wo, out] = (d as tf.Tensor4D).shape;
  const delta = tf.reshape(d, [C, B, ho * wo, out]);
  let kernelSq: tf.Tensor | null = null;
  let biasSq: tf.Tensor | null = null;
  for (let c = 0; c < C; c++) {
    const dc = tf.squeeze(tf.slice(delta, [c, 0, 0, 0], [1, B, ho * wo, out]), [0]) as tf.Tensor3D;
    const j = tf.matMul(patches, dc, true, false); // [B, K, out]
    const ks = tf.sum(tf.square(j), 0);
    const bs = tf.sum(tf.square(tf.sum(dc, 1)), 0);
    kernelSq = kernelSq ? tf.add(kernelSq, ks) : ks;
    biasSq = biasSq ? tf.add(biasSq, bs) : bs;
  }
  return [kernelSq!, biasSq!];
}

/**
 * Nonzero eigenpairs of A = X̃ᵀX̃ (X̃ [N, dA] from float32 row batches) through the Gram matrix
 * X̃X̃ᵀ = V Λ Vᵀ: A's eigenvectors are U = X̃ᵀ V Λ^{-1/2} (same eigenvalues). Eigenvalues below
 * 1e-10·λ_max are dropped (numerically zero).
 */
function lowRankEig(rows: Float32Array[], n: number, dA: number): { values: Float64Array; vectors: Float64Array } {
  const X = new Float32Array(n * dA);
  let off = 0;
  for (const r of rows) {
    X.set(r, off);
    off += r.length;
  }
  if (off !== n * dA) throw new Error(`low-rank A: got ${off} values, expected ${n}·${dA}`);
  const gram = tf.tidy(() => {
    const x = tf.tensor2d(X, [n, dA]);
    return tf.matMul(x, x, false, true);
  });
  const g = Float64Array.from(gram.dataSync());
  gram.dispose();
  const e = symEig(g, n);
  const lmax = e.values[n - 1];
  const keep: number[] = [];
  for (let i = n - 1; i >= 0; i--) if (e.values[i] > 1e-10 * lmax && e.values[i] > 0) keep.push(i);
  const r = keep.length;
  const values = Float64Array.from(keep, (i) => e.values[i]);
  // V_r Λ^{-1/2} [n, r]
  const vs = new Float32Array(n * r);
  for (let a = 0; a < n; a++) for (let k = 0; k < r; k++) vs[a * r + k] = e.vectors![a * n + keep[k]] / Math.sqrt(values[k]);
  const U = tf.tidy(() => tf.matMul(tf.tensor2d(X, [n, dA]), tf.tensor2d(vs, [n, r]), true, false));
  const vectors = Float64Array.from(U.dataSync());
  U.dispose();
  return { values, vectors };
}

// ---------------------------------------------------------------- predictive on tensors

/** Tensor form of a prepared block for sampling and GLM variances (dispose when done). */
export interface TensorBlock {
  layer: NetworkLayer;
  /** δθ (kernel shape, bias) for z ~ N(0, I) given as [fanIn+1, out] (rows: kernel rows then bias). */
  sample(z: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
  /** diag: σ² [fanIn+1, out]. */
  variance?: tf.Tensor2D;
  /** kron: U [dA, r], Q_G [out, out], 1/D [r, out], τ. */
  kron?: { U: tf.Tensor2D; QG: tf.Tensor2D; Dinv: tf.Tensor2D; tau: number; full: boolean };
}

export function tensorBlock(layer: NetworkLayer, p: PreparedBlock): TensorBlock {
  const dA = layer.fanIn + 1;
  const dG = layer.out;
  const b = p.block;
  if (b.P !== layer.P) throw new Error(`laplace: block of ${b.P} parameters for layer ${layer.name} with ${layer.P}`);
  if (b.structure === 'diag') {
    const variance = tf.tensor2d(Float32Array.from(p.varianceDiagonal()), [dA, dG]);
    const sd = tf.sqrt(variance);
    return {
      layer,
      variance,
      sample: (z) => tf.mul(sd, z) as tf.Tensor2D,
      dispose: () => {
        variance.dispose();
        sd.dispose();
      },
    };
  }
  if (b.structure === 'kron') {
    const r = b.eigA.values.length;
    const tau = p.priorPrecision;
    const dinv = new Float32Array(r * dG);
    for (let i = 0; i < r; i++) for (let j = 0; j < dG; j++) dinv[i * dG + j] = 1 / (b.eigA.values[i] * b.eigG.values[j] + tau);
    const U = tf.tensor2d(Float32Array.from(b.eigA.vectors), [dA, r]);
    const QG = tf.tensor2d(Float32Array.from(b.eigG.vectors), [dG, dG]);
    const Dinv = tf.tensor2d(dinv, [r, dG]);
    const DinvSqrt = tf.sqrt(Dinv);
    const full = r === dA;
    return {
      layer,
      kron: { U, QG, Dinv, tau, full },
      // δW = U[(UᵀZQ_G) ⊙ D^{-1/2}]Q_Gᵀ + τ^{-1/2}(Z − UUᵀZ)   (curvature.ts, prepareBlock)
      sample: (z) =>
        tf.tidy(() => {
          const utz = tf.matMul(U, z, true, false);
          const main = tf.matMul(tf.matMul(U, tf.mul(tf.matMul(utz, QG), DinvSqrt)), QG, false, true);
          if (full) return main as tf.Tensor2D;
          const rest = tf.sub(z, tf.matMul(U, utz));
          return tf.add(main, tf.mul(rest, 1 / Math.sqrt(tau))) as tf.Tensor2D;
        }),
      dispose: () => [U, QG, Dinv, DinvSqrt].forEach((t) => t.dispose()),
    };
  }
  // the factory refuses 'full' with subsetOfWeights 'all' for the CNN
  throw new Error(`laplace: 'full' curvature is not supported for the network layer ${layer.name}`);
}

/** Samples θ_s = θ* + δθ for every layer → weight tensors (caller disposes). */
export function sampleWeights(blocks: TensorBlock[], thetaStar: LayerWeights[], z: Float32Array[]): LayerWeights[] {
  return blocks.map((tb, i) =>
    tf.tidy(() => {
      const l = tb.layer;
      const dA = l.fanIn + 1;
      const delta = tb.sample(tf.tensor2d(z[i], [dA, l.out]));
      const dk = tf.slice(delta, [0, 0], [l.fanIn, l.out]);
      const db = tf.reshape(tf.slice(delta, [l.fanIn, 0], [1, l.out]), [l.out]);
      return {
        kernel: tf.add(thetaStar[i].kernel, tf.reshape(dk, l.kernelShape)),
        bias: tf.add(thetaStar[i].bias, db) as tf.Tensor1D,
      };
    }),
  );
}

/** Logits of the deterministic network with the given weights (x in [0,1]). Inside tidy. */
export function networkLogits(net: ConvNet, x: tf.Tensor4D, w: LayerWeights[]): tf.Tensor2D {
  return functionalForward(x, w, poolConfig(net)).logits;
}

/** Forward at θ* and the Jacobian signals δ_l for dy = e_c, c = 1..C (replica-major). Inside tidy. */
function jacobianSignals(net: ConvNet, x: tf.Tensor4D, C: number) {
  const B = x.shape[0];
  return replicatedDeltas(x, networkWeights(net), poolConfig(net), C, () => {
    const eye = tf.oneHot(tf.range(0, C, 1, 'int32'), C).toFloat();
    return tf.reshape(tf.tile(tf.expandDims(eye, 1), [1, B, 1]), [C * B, C]) as tf.Tensor2D;
  });
}

/**
 * Linearised (GLM) predictive of the whole network at a batch x (Immer et al. 2021; MacKay 1992):
 * logits mean f(x; θ*) [B, C] and variances diag(J Σ Jᵀ) [B, C] with the block-diagonal Σ
 * (J_c = Jacobian rows obtained with dy = e_c in the replicated backward pass). Inside tidy.
 */
export function networkGlm(net: ConvNet, x: tf.Tensor4D, blocks: TensorBlock[]): { mean: tf.Tensor2D; variance: tf.Tensor2D } {
  const layers = blocks.map((b) => b.layer);
  const C = layers[3].out;
  const B = x.shape[0];
  const { forward, deltas } = jacobianSignals(net, x, C);
  let varRows: tf.Tensor | null = null; // [C·B] replica-major
  blocks.forEach((tb, i) => {
    const l = tb.layer;
    const a = forward.inputs[i];
    const d = deltas[i];
    let v: tf.Tensor;
    if (l.kind === 'dense') {
      const a2 = a as tf.Tensor2D;
      const d2 = d as tf.Tensor2D; // [C·B, out]
      if (tb.variance) {
        const vk = tf.slice(tb.variance, [0, 0], [l.fanIn, l.out]);
        const vb = tf.slice(tb.variance, [l.fanIn, 0], [1, l.out]);
        const wgt = tf.add(tf.matMul(tf.square(a2), vk), vb); // [B, out]
        v = tf.sum(tf.mul(tf.square(d2), tf.tile(wgt, [C, 1])), 1);
      } else if (tb.kron) {
        const { U, QG, Dinv, tau } = tb.kron;
        const at = tf.concat([a2, tf.ones([B, 1])], 1);
        const ah = tf.matMul(at, U); // [B, r]
        const rest = tf.relu(tf.sub(tf.sum(tf.square(at), 1, true), tf.sum(tf.square(ah), 1, true))); // [B, 1]
        const wgt = tf.add(tf.matMul(tf.square(ah), Dinv), tf.div(rest, tau)); // [B, out]
        const dh = tf.matMul(d2, QG); // [C·B, out]
        v = tf.sum(tf.mul(tf.square(dh), tf.tile(wgt, [C, 1])), 1);
      } else {
        throw new Error(`laplace: unsupported block for layer ${l.name}`);
      }
    } else {
      if (!tb.variance) throw new Error(`laplace: conv layer ${l.name} needs a diagonal block`);
      const [kh, kw] = l.kernelShape;
      const patches = extractPatches(a as tf.Tensor4D, kh, kw);
      const [, ho, wo, out] = (d as tf.Tensor4D).shape;
      const delta = tf.reshape(d, [C, B, ho * wo, out]);
      const vk = tf.slice(tb.variance, [0, 0], [l.fanIn, l.out]);
      const vb = tf.reshape(tf.slice(tb.variance, [l.fanIn, 0], [1, l.out]), [l.out]);
      const parts: tf.Tensor[] = [];
      for (let c = 0; c < C; c++) {
        const dc = tf.squeeze(tf.slice(delta, [c, 0, 0, 0], [1, B, ho * wo, out]), [0]) as tf.Tensor3D;
        const j = tf.matMul(patches, dc, true, false); // [B, K, out]
        const kpart = tf.sum(tf.mul(tf.square(j), vk), [1, 2]);
        const bpart = tf.sum(tf.mul(tf.square(tf.sum(dc, 1)), vb), 1);
        parts.push(tf.add(kpart, bpart));
      }
      v = tf.concat(parts, 0);
    }
    varRows = varRows ? tf.add(varRows, v) : v;
  });
  const variance = tf.transpose(tf.reshape(varRows!, [C, B])) as tf.Tensor2D;
  return { mean: forward.logits, variance };
}

/**
 * S weight perturbations per layer, stacked as [fanIn+1, S·out] (column s·out + j = output j of
 * sample s): δθ_s = Σ^{1/2}-transform of z_s (same draws for every batch → joint samples).
 */
export function stackWeightPerturbations(blocks: TensorBlock[], z: (sample: number, layer: number) => Float32Array, samples: number): tf.Tensor2D[] {
  return blocks.map((tb, i) =>
    tf.tidy(() => {
      const l = tb.layer;
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < samples; s++) parts.push(tb.sample(tf.tensor2d(z(s, i), [l.fanIn + 1, l.out])));
      return tf.concat(parts, 1) as tf.Tensor2D;
    }),
  );
}

/**
 * Samples of the linearised network (laplace-torch pred_type='glm', link_approx='mc'):
 * f_s(x) = f(x; θ*) + J(x) δθ_s, δθ_s ~ N(0, Σ), as logits [S, B, C]. J δθ is exact: for a dense
 * layer ⟨ã ⊗ δ_c, ΔW⟩ = (ãᵀΔW)·δ_c, for a conv layer Σ_positions (patch ΔW)·Δ_c. Inside tidy.
 * @param stacks per layer [fanIn+1, S·out] from {@link stackWeightPerturbations}
 */
export function networkGlmSamples(net: ConvNet, x: tf.Tensor4D, blocks: TensorBlock[], stacks: tf.Tensor2D[], samples: number): tf.Tensor3D {
  const layers = blocks.map((b) => b.layer);
  const C = layers[3].out;
  const B = x.shape[0];
  const S = samples;
  const { forward, deltas } = jacobianSignals(net, x, C);
  let df: tf.Tensor | null = null; // [B, S, C]
  layers.forEach((l, i) => {
    const a = forward.inputs[i];
    const d = deltas[i];
    const st = stacks[i];
    let t: tf.Tensor;
    if (l.kind === 'dense') {
      const at = tf.concat([a as tf.Tensor2D, tf.ones([B, 1])], 1);
      const y = tf.reshape(tf.matMul(at, st), [B, S, l.out]); // ã ΔW_s
      const dc = tf.transpose(tf.reshape(d, [C, B, l.out]), [1, 2, 0]); // [B, out, C]
      t = tf.matMul(y, dc); // [B, S, C]
    } else {
      const [kh, kw] = l.kernelShape;
      const patches = extractPatches(a as tf.Tensor4D, kh, kw); // [B, T, K]
      const T = patches.shape[1];
      const K = patches.shape[2];
      const dk = tf.slice(st, [0, 0], [K, S * l.out]);
      const db = tf.reshape(tf.slice(st, [K, 0], [1, S * l.out]), [1, 1, S * l.out]);
      const y = tf.add(tf.reshape(tf.matMul(tf.reshape(patches, [B * T, K]), dk), [B, T, S * l.out]), db); // [B, T, S·out]
      const yt = tf.reshape(tf.transpose(tf.reshape(y, [B, T, S, l.out]), [0, 2, 1, 3]), [B, S, T * l.out]);
      const dc = tf.transpose(tf.reshape(d, [C, B, T * l.out]), [1, 2, 0]); // [B, T·out, C]
      t = tf.matMul(yt, dc); // [B, S, C]
    }
    df = df ? tf.add(df, t) : t;
  });
  const logits = tf.add(tf.expandDims(forward.logits, 1), df!); // [B, S, C]
  return tf.transpose(logits, [1, 0, 2]) as tf.Tensor3D;
}
