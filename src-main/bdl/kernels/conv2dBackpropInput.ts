/**
 * `Conv2DBackpropInput` as a forward convolution (replaces tfjs-backend-wasm 4.22's kernel, which
 * is a direct loop ~10× slower than its XNNPACK Conv2D on the Gal CNN's shapes).
 *
 * For y = conv2d(x, W) with stride s and top/left padding p, the input gradient is the "full"
 * correlation of the stride-dilated dy with the spatially flipped, in/out-transposed filter:
 *
 *   dx = conv2d( pad(dilate_s(dy), fh−1−p_top, …), W̃ ),   W̃[a, b, co, ci] = W[fh−1−a, fw−1−b, ci, co]
 *
 * (Dumoulin & Visin 2016, §4.3 "transposed convolution"). dilate_s inserts s−1 zeros between
 * rows/columns (done with reshape + pad, no loops).
 */
import * as tf from '@tensorflow/tfjs';
import { pair, withKernelScope, type TensorInfo } from './util.ts';

export function makeConv2DBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        inputShape: [number, number, number, number];
      };
      if (a.dataFormat === 'NCHW') {
        throw new Error(`Conv2DBackpropInput (${backendName}): only NHWC is supported`);
      }
      const info = tf.backend_util.computeConv2DInfo(
        a.inputShape,
        filter.shape as [number, number, number, number],
        pair(a.strides),
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
      const { outHeight: oh, outWidth: ow, batchSize: n, inHeight: h, inWidth: w } = info;
      const co = info.outChannels;
      return withKernelScope(backend, backendName, (s) => {
        let d = dy;
        if (sh > 1 || sw > 1) {
          // dilate: [n, oh, 1, ow, 1, co] → pad to [n, oh, sh, ow, sw, co] → [n, oh·sh, ow·sw, co]
          const r6 = s.reshape(dy, [n, oh, 1, ow, 1, co]);
          const p6 = s.window(r6, [0, 0, 0, 0, 0, 0], [n, oh, sh, ow, sw, co]);
          d = s.reshape(p6, [n, oh * sh, ow * sw, co]);
        }
        const p = s.window(
          d,
          [0, -(fh - 1 - info.padInfo.top), -(fw - 1 - info.padInfo.left), 0],
          [n, h + fh - 1, w + fw - 1, co],
        );
        const flipped = s.run('Reverse', { x: filter }, { dims: [0, 1] });
        const wt = s.transpose(flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
        return s.run(
          'Conv2D',
          { x: p, filter: wt },
          { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined },
        );
      });
    },
  };
}
