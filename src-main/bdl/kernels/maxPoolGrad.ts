/**
 * `MaxPoolGrad` built from XNNPACK-free but vectorised wasm kernels (no per-pixel JavaScript).
 *
 * The gradient routes dy[n, i, j, c] to the FIRST maximum (row-major within the window) of the
 * window of x it pooled, and sums over overlapping windows — exactly the cpu backend's semantics
 * (tfjs-backend-cpu `maxPoolPositions` + `maxPoolGrad`).
 *
 * Fast path, non-overlapping windows without padding (filter == stride; the Gal CNN's 2×2/2):
 *   x → [n, oh, k, ow, l, c] → [n·oh·ow·c, k·l]   (reshape + transpose)
 *   dx_window = onehot(argmax(window), k·l) · dy     (ArgMax returns the first maximum)
 *   then the inverse transpose/reshape, zeros for any input remainder not pooled.
 *
 * General path (overlap and/or padding): the k·l strided views x[a::s, b::s] of the −∞-padded
 * input are stacked, argmax/onehot picks the winner, and each view's share of dy is scattered
 * back by stride-dilation (reshape + pad) and shift, then summed (AddN).
 */
import * as tf from '@tensorflow/tfjs';
import { pair, withKernelScope, type KernelScope, type TensorInfo } from './util.ts';

export function makeMaxPoolGradKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    const a = attrs as {
      filterSize: number | [number, number];
      strides: number | [number, number];
      pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      pair(a.filterSize),
      pair(a.strides),
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { filterHeight: k, filterWidth: l, strideHeight: sh, strideWidth: sw, padInfo } = info;
    const unpadded = padInfo.top === 0 && padInfo.left === 0 && padInfo.bottom === 0 && padInfo.right === 0;
    return withKernelScope(backend, backendName, (s) =>
      k === sh && l === sw && unpadded ? nonOverlapping(s, input, dy, info) : general(s, input, dy, info),
    );
  };
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc };
}

/** Winner one-hot [m, kl] (float32) of rows x2 [m, kl]: first maximum of each row. */
function firstMaxOneHot(s: KernelScope, x2: TensorInfo, axis: number, depth: number): TensorInfo {
  const am = s.run('ArgMax', { x: x2 }, { axis });
  // wasm's OneHot writes int32 values whatever `dtype` says: make int32, then cast.
  const hotInt = s.run('OneHot', { indices: am }, { depth, onValue: 1, offValue: 0, dtype: 'int32' });
  return s.run('Cast', { x: hotInt }, { dtype: 'float32' });
}

function nonOverlapping(s: KernelScope, input: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: k, filterWidth: l } = info;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: c } = info;
  const xc = s.window(input, [0, 0, 0, 0], [n, oh * k, ow * l, c]);
  const x6 = s.reshape(xc, [n, oh, k, ow, l, c]);
  const xt = s.transpose(x6, [0, 1, 3, 5, 2, 4]); // [n, oh, ow, c, k, l]
  const m = n * oh * ow * c;
  const hot = firstMaxOneHot(s, s.reshape(xt, [m, k * l]), 1, k * l);
  const g = s.run('Multiply', { a: hot, b: s.reshape(dy, [m, 1]) });
  const g6 = s.reshape(g, [n, oh, ow, c, k, l]);
  const gt = s.transpose(g6, [0, 1, 4, 2, 5, 3]); // [n, oh, k, ow, l, c]
  const gx = s.reshape(gt, [n, oh * k, ow * l, c]);
  return s.window(gx, [0, 0, 0, 0], [n, h, w, c]);
}

function general(s: KernelScope, input: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { filterHeight: k, filterWidth: l, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: c } = info;
  const hp = (oh - 1) * sh + k;
  const wp = (ow - 1) * sw + l;
  const xp = s.window(input, [0, -padInfo.top, -padInfo.left, 0], [n, hp, wp, c], -Infinity);
  const views: TensorInfo[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < l; j++) {
      views.push(
        s.run(
          'StridedSlice',
          { x: xp },
          {
            begin: [0, i, j, 0],
            end: [n, i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1, c],
            strides: [1, sh, sw, 1],
            beginMask: 0,
            endMask: 0,
            ellipsisMask: 0,
            newAxisMask: 0,
            shrinkAxisMask: 0,
          },
        ),
      );
    }
  }
  const stacked = s.run('Pack', views, { axis: 4 }); // [n, oh, ow, c, k·l]
  const hot = firstMaxOneHot(s, stacked, 4, k * l);
  const dy5 = s.reshape(dy, [n, oh, ow, c, 1]);
  const g = s.run('Multiply', { a: hot, b: dy5 });
  const list = s.runMulti('Unpack', { value: g }, { axis: 4 });
  const shifted: TensorInfo[] = [];
  list.forEach((gi, idx) => {
    const i = Math.floor(idx / l);
    const j = idx % l;
    let d = gi;
    if (sh > 1 || sw > 1) {
      const r6 = s.reshape(gi, [n, oh, 1, ow, 1, c]);
      d = s.reshape(s.window(r6, [0, 0, 0, 0, 0, 0], [n, oh, sh, ow, sw, c]), [n, oh * sh, ow * sw, c]);
    }
    shifted.push(s.window(d, [0, -i, -j, 0], [n, hp, wp, c]));
  });
  const sum = shifted.length === 1 ? shifted[0] : s.run('AddN', shifted);
  return s.window(sum, [0, padInfo.top, padInfo.left, 0], [n, h, w, c]);
}
