/**
 * The Gal CNN (models/galCnn.ts) as a function of explicit weight tensors, so a posterior can run
 * the network with sampled weights (VI / IVON draws, SGLD bank samples, ensemble members) without
 * touching the network's variables:
 *
 *   conv1: relu(conv2d(x, K₁) + b₁) → conv2: relu(conv2d(·, K₂) + b₂) → max-pool   [trunk]
 *   → flatten → dense1: relu(· W₁ + c₁)                                              [penultimate]
 *   → logits: · W₂ + c₂                                                              [last layer]
 *
 * Dropout is absent (the deterministic network, as `ConvNet` with dropout 'none'). Parameters are a
 * flat list in the order of `ConvNet.trainableVariables` ([K₁, b₁, K₂, b₂, W₁, c₁, W₂, c₂] for the
 * Gal CNN; the residual trunk's own are in models/resnet.ts). Also: flattening parameter lists to
 * one Float32Array and back.
 */
import * as tf from '@tensorflow/tfjs';
import type { ConvNet } from '../models/convNet.ts';
import { GAL_CNN_LAYERS } from '../models/galCnn.ts';

/** Index of a head layer's kernel in `ConvNet.trainableVariables` (its bias is the next one). */
export function headParamIndex(net: ConvNet, layer: 'dense1' | 'logits'): number {
  return net.trunkParamCount + (layer === 'dense1' ? 0 : 2);
}

/** Pool size of the network's max-pooling layer ([2, 2] for the paper's network). */
export function poolSizeOf(net: ConvNet): [number, number] {
  const p = (net.model.getLayer(GAL_CNN_LAYERS.trunk[2]).getConfig() as { poolSize: number | number[] }).poolSize;
  return Array.isArray(p) ? [p[0], p[1]] : [p, p];
}

/**
 * Trunk with explicit weights: x [B,H,W,C] → [B, h', w', F].
 * @param conv1 [K₁ [k,k,C,F], b₁ [F]], conv2 [K₂ [k,k,F,F], b₂ [F]]
 */
export function trunkWith(x: tf.Tensor4D, conv1: [tf.Tensor, tf.Tensor], conv2: [tf.Tensor, tf.Tensor], poolSize: [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const a = tf.relu(tf.add(tf.conv2d(x, conv1[0] as tf.Tensor4D, 1, 'valid'), conv1[1]));
    const b = tf.relu(tf.add(tf.conv2d(a as tf.Tensor4D, conv2[0] as tf.Tensor4D, 1, 'valid'), conv2[1]));
    return tf.maxPool(b as tf.Tensor4D, poolSize, poolSize, 'valid');
  });
}

/** [B, h', w', F] → [B, h'·w'·F] (Keras Flatten on NHWC is this row-major reshape). */
export function flattenFeatures(h: tf.Tensor): tf.Tensor2D {
  return tf.reshape(h, [h.shape[0], -1]);
}

/** Dense layer z [B, D] · W [D, H] + c [H], optionally ReLU. */
export function denseWith(z: tf.Tensor2D, kernel: tf.Tensor, bias: tf.Tensor, relu: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const a = tf.add(tf.matMul(z, kernel as tf.Tensor2D), bias) as tf.Tensor2D;
    return relu ? tf.relu(a) : a;
  });
}

/** Total number of entries of a list of shapes. */
export function totalSize(shapes: readonly number[][]): number {
  return shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
}

/** Concatenates the values of `tensors` (any shapes) into one Float32Array (synchronous read). */
export function flattenSync(tensors: readonly tf.Tensor[]): Float32Array {
  const out = new Float32Array(totalSize(tensors.map((t) => t.shape)));
  let o = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  return out;
}

/** Concatenates the values of `tensors` into one Float32Array. */
export async function flattenAsync(tensors: readonly tf.Tensor[]): Promise<Float32Array> {
  const out = new Float32Array(totalSize(tensors.map((t) => t.shape)));
  let o = 0;
  for (const t of tensors) {
    out.set((await t.data()) as Float32Array, o);
    o += t.size;
  }
  return out;
}

/** Inverse of {@link flattenSync}: one new tensor per shape (caller disposes). */
export function unflatten(values: Float32Array, shapes: readonly number[][], offset = 0): tf.Tensor[] {
  const need = totalSize(shapes);
  if (offset + need > values.length) throw new Error(`unflatten: ${values.length - offset} values for ${need} parameters`);
  const out: tf.Tensor[] = [];
  let o = offset;
  for (const s of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    out.push(tf.tensor(values.subarray(o, o + n), s, 'float32'));
    o += n;
  }
  return out;
}
