/** Conversions between the typed arrays of the public API and tensors, in bounded batches. */
import * as tf from '@tensorflow/tfjs';

/**
 * uint8 images [N,H,W,C] (flat) → float32 tensor [count,H,W,C] in [0,1] for rows
 * `indices` (or the contiguous range [start, start + count)).
 */
export function imagesToTensor(
  x: Uint8Array,
  imageShape: [number, number, number],
  rows: { start: number; count: number } | Int32Array,
): tf.Tensor4D {
  const [h, w, c] = imageShape;
  const per = h * w * c;
  const count = rows instanceof Int32Array ? rows.length : rows.count;
  const out = new Float32Array(count * per);
  const inv = 1 / 255;
  for (let r = 0; r < count; r++) {
    const src = (rows instanceof Int32Array ? rows[r] : rows.start + r) * per;
    const dst = r * per;
    for (let i = 0; i < per; i++) out[dst + i] = x[src + i] * inv;
  }
  return tf.tensor4d(out, [count, h, w, c], 'float32');
}

/** Number of images in a flat uint8 buffer, checking it divides exactly. */
export function countImages(x: Uint8Array, imageShape: [number, number, number]): number {
  const per = imageShape[0] * imageShape[1] * imageShape[2];
  if (x.length % per !== 0) {
    throw new Error(`image buffer length ${x.length} is not a multiple of H·W·C = ${per} (${imageShape.join('×')})`);
  }
  return x.length / per;
}

/** Lets the event loop run (worker messages, cancellation) between batches. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
