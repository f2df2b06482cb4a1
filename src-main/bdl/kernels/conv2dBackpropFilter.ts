/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.22 has no such kernel).
 *
 * The filter gradient of y = conv2d(x, W) (NHWC, stride s, padding p, dilation 1) is
 *
 *   dW[kh, kw, ci, co] = Σ_n Σ_{oh, ow} xpad[n, oh·s_h + kh, ow·s_w + kw, ci] · dy[n, oh, ow, co],
 *
 * which is itself a convolution once the batch axis is used as the contraction ("channel") axis:
 * with X' = transpose(xpad, [3,1,2,0]) ∈ [ci, H', W', n] as the input and
 * F' = transpose(dy, [1,2,0,3]) ∈ [oh, ow, n, co] as the filter,
 *
 *   conv2d(X', F', strides = 1, dilations = s)[ci, kh, kw, co] = dW[kh, kw, ci, co].
 *
 * So the work is done by the backend's own (XNNPACK) Conv2D — a batched GEMM — plus three
 * transposes; no per-pixel JavaScript. See e.g. Dumoulin & Visin, "A guide to convolution
 * arithmetic for deep learning" (2016), §4 for the transposition identities.
 */
import * as tf from '@tensorflow/tfjs';
import { pair, withKernelScope, type TensorInfo } from './util.ts';

export function makeConv2DBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat === 'NCHW') {
        throw new Error(`Conv2DBackpropFilter (${backendName}): only NHWC is supported`);
      }
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        pair(a.strides),
        1,
        a.pad,
        a.dimRoundingMode,
        false,
        'channelsLast',
      );
      const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
      const { outHeight: oh, outWidth: ow, batchSize: n, inChannels: ci } = info;
      return withKernelScope(backend, backendName, (s) => {
        // Rows/cols of the padded input that the convolution actually reads.
        const needH = (oh - 1) * sh + fh;
        const needW = (ow - 1) * sw + fw;
        const xp = s.window(x, [0, -info.padInfo.top, -info.padInfo.left, 0], [n, needH, needW, ci]);
        const xt = s.transpose(xp, [3, 1, 2, 0]);
        const dyt = s.transpose(dy, [1, 2, 0, 3]);
        const r = s.run(
          'Conv2D',
          { x: xt, filter: dyt },
          { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
        ); // [ci, fh, fw, co]
        return ci === 1 ? s.reshape(r, a.filterShape) : s.transpose(r, [1, 2, 0, 3]);
      });
    },
  };
}
