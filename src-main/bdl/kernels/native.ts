/**
 * wasm-backend kernels that run on the native kernels of `../native` (AVX2 + FMA GEMM, direct
 * convolutions): Conv2D, FusedConv2D, Conv2DBackpropFilter, Conv2DBackpropInput, BatchMatMul,
 * _FusedMatMul, MaxPoolGrad, Sum over all axes but the last (the bias gradients) and Add of a
 * row vector (the bias, which tfjs-layers adds unfused while training). Inputs are
 * read and outputs written directly in the wasm heap. `nativeOnWasm` and `heapTensors` serve the
 * library code that writes tensors natively outside kernels (dropout masks, the Adam step).
 *
 * Each kernel handles the float32 NHWC cases the library's models use (any stride, padding and
 * dilation; bias and ReLU fused; transposes and batch broadcasting of matmuls) and hands anything
 * else — NCHW, other fused activations, PReLU weights, unusual bias shapes — to `fallback`, the
 * kernel it replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeKernels, type NativeKernels } from '../native/index.ts';
import { pair, type TensorInfo } from './util.ts';

export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

/** The threaded wasm build's memory is a SharedArrayBuffer, which Node-API cannot address. */
const heapIsShared = (backend: WasmHeapBackend) => backend.wasm.HEAPU8.buffer instanceof SharedArrayBuffer;

/** The active wasm backend and the native kernels, when both are in use and the heap is addressable. */
export function nativeOnWasm(): { backend: WasmHeapBackend; native: NativeKernels } | null {
  const native = nativeKernels();
  if (!native || tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  return heapIsShared(backend) ? null : { backend, native };
}

/**
 * New float32 tensors of the given shapes in the wasm heap, written in place by `fill` (views are
 * taken after every allocation, since allocating may grow — and so replace — the wasm memory).
 */
export function heapTensors(backend: WasmHeapBackend, shapes: number[][], fill: (views: Float32Array[]) => void): tf.Tensor[] {
  const infos = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
  fill(infos.map((t) => backend.typedArrayFromHeap(t)));
  return infos.map((t) => tf.engine().makeTensorFromTensorInfo(t));
}

type Attrs = Record<string, unknown>;
type NativeImpl = (inputs: Record<string, TensorInfo | undefined>, attrs: Attrs, backend: WasmHeapBackend) => TensorInfo | null;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const allFloat = (ts: (TensorInfo | undefined)[]) => ts.every((t) => t === undefined || (t.dtype === 'float32' && size(t.shape) > 0));

/** Native-first kernel: `impl` returns null for cases it does not take, which go to `fallback`. */
function nativeFirst(kernelName: string, backendName: string, impl: NativeImpl, fallback: () => tf.KernelFunc | undefined): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WasmHeapBackend;
      const out = heapIsShared(backend) ? null : impl(args.inputs as Record<string, TensorInfo | undefined>, args.attrs as Attrs, backend);
      if (out) return out;
      const f = fallback();
      if (!f) throw new Error(`${kernelName} (${backendName}): case not supported natively and no fallback kernel`);
      return f(args);
    },
  };
}

/** [n, h, w, ci, co, fh, fw, sh, sw, dh, dw, padTop, padLeft, oh, ow] as the addon reads them. */
function convDims(info: tf.backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth,
  ]);
}

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    pair(attrs.strides),
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

/** ReLU or nothing: the fused activations the native kernels apply themselves. */
function fusedRelu(attrs: Attrs, inputs: Record<string, TensorInfo | undefined>): boolean | null {
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (inputs.preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return null;
  return activation === 'relu';
}

export function makeNativeKernels(native: NativeKernels, backendName: string, fallbacks: Map<string, () => tf.KernelFunc | undefined>): tf.KernelConfig[] {
  const fallback = (name: string) => fallbacks.get(name) ?? (() => undefined);

  const conv2d: NativeImpl = (inputs, attrs, backend) => {
    const { x, filter, bias } = inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
    const relu = fusedRelu(attrs, inputs);
    if (relu === null || attrs.dataFormat === 'NCHW' || !allFloat([x, filter, bias])) return null;
    const info = convInfo(x.shape, filter.shape, attrs);
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return null;
    const out = backend.makeOutput(info.outShape, 'float32');
    // Views are taken after makeOutput: allocating may grow (and so replace) the wasm memory.
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    native.conv2d(view(x), view(filter), bias ? view(bias) : null, view(out), convDims(info), relu ? 1 : 0);
    return out;
  };

  const backpropFilter: NativeImpl = (inputs, attrs, backend) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || !allFloat([x, dy])) return null;
    const info = convInfo(x.shape, attrs.filterShape as number[], attrs);
    const out = backend.makeOutput(attrs.filterShape as number[], 'float32');
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    native.conv2dBackpropFilter(view(x), view(dy), view(out), convDims(info));
    return out;
  };

  const backpropInput: NativeImpl = (inputs, attrs, backend) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    if (attrs.dataFormat === 'NCHW' || !allFloat([dy, filter])) return null;
    const inputShape = attrs.inputShape as number[];
    const info = convInfo(inputShape, filter.shape, attrs);
    const out = backend.makeOutput(inputShape, 'float32');
    const view = (t: TensorInfo) => backend.typedArrayFromHeap(t);
    native.conv2dBackpropInput(view(dy), view(filter), view(out), convDims(info));
    return out;
  };

  const matMul: NativeImpl = (inputs, attrs, backend) => {
    const { a, b, bias } = inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo };
    const relu = fusedRelu(attrs, inputs);
    if (relu === null || !allFloat([a, b, bias]) || a.shape.length < 2 || b.shape.length < 2) return null;
    const ta = Boolean(attrs.transposeA);
    const tb = Boolean(attrs.transposeB);
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const [m, k, kb, n] = [ta ? ac : ar, ta ? ar : ac, tb ? bc : br, tb ? br : bc];
    if (k !== kb) return null;
    const batchA = size(a.shape.slice(0, -2));
    const batchB = size(b.shape.slice(0, -2));
    const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const batch = size(batchShape);
    // Only "same batch" or "one side unbatched" broadcasting maps onto a loop of plain GEMMs.
    if (batch !== Math.max(batchA, batchB) || (batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return null;
    if (bias && !(bias.shape.length === 1 && bias.shape[0] === n)) return null;
    const out = backend.makeOutput([...batchShape, m, n], 'float32');
    const av = backend.typedArrayFromHeap(a);
    const bv = backend.typedArrayFromHeap(b);
    const cv = backend.typedArrayFromHeap(out);
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
      const bi = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
      native.gemm(ai, bi, cv.subarray(i * m * n, (i + 1) * m * n), m, n, k, ta ? 1 : 0, tb ? 1 : 0, 0);
    }
    if (bias || relu) {
      const bvals = bias ? backend.typedArrayFromHeap(bias) : null;
      for (let r = 0; r < batch * m; r++) {
        const row = r * n;
        for (let j = 0; j < n; j++) {
          const v = cv[row + j] + (bvals ? bvals[j] : 0);
          cv[row + j] = relu && v < 0 ? 0 : v;
        }
      }
    }
    return out;
  };

  const maxPoolGrad: NativeImpl = (inputs, attrs, backend) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    if (!allFloat([dy, input])) return null;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      pair(attrs.filterSize),
      pair(attrs.strides),
      1,
      attrs.pad as 'valid' | 'same' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    const out = backend.makeOutput(input.shape, 'float32');
    const dims = Int32Array.from([
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth,
      info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth,
    ]);
    native.maxPoolGrad(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), backend.typedArrayFromHeap(out), dims);
    return out;
  };

  const sumLeadingAxes: NativeImpl = (inputs, attrs, backend) => {
    const { x } = inputs as { x: TensorInfo };
    const rank = x.shape.length;
    if (!allFloat([x]) || rank < 2) return null;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
    if (axes.length !== rank - 1 || axes.some((a, i) => a !== i)) return null;
    const cols = x.shape[rank - 1];
    const out = backend.makeOutput(attrs.keepDims ? [...Array(rank - 1).fill(1), cols] : [cols], 'float32');
    native.columnSums(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), size(x.shape) / cols, cols);
    return out;
  };

  const addRow: NativeImpl = (inputs, _attrs, backend) => {
    const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
    if (!allFloat([a, b])) return null;
    const [x, row] = b.shape.length === 1 && a.shape.length >= 2 ? [a, b] : a.shape.length === 1 && b.shape.length >= 2 ? [b, a] : [null, null];
    const cols = row?.shape[0];
    if (!x || !row || x.shape[x.shape.length - 1] !== cols) return null;
    const out = backend.makeOutput(x.shape, 'float32');
    native.addRow(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(row), backend.typedArrayFromHeap(out), size(x.shape) / cols, cols);
    return out;
  };

  return [
    nativeFirst('Add', backendName, addRow, fallback('Add')),
    nativeFirst('MaxPoolGrad', backendName, maxPoolGrad, fallback('MaxPoolGrad')),
    nativeFirst('Sum', backendName, sumLeadingAxes, fallback('Sum')),
    nativeFirst('Conv2D', backendName, conv2d, fallback('Conv2D')),
    nativeFirst('FusedConv2D', backendName, conv2d, fallback('FusedConv2D')),
    nativeFirst('Conv2DBackpropFilter', backendName, backpropFilter, fallback('Conv2DBackpropFilter')),
    nativeFirst('Conv2DBackpropInput', backendName, backpropInput, fallback('Conv2DBackpropInput')),
    nativeFirst('BatchMatMul', backendName, matMul, fallback('BatchMatMul')),
    nativeFirst('_FusedMatMul', backendName, matMul, fallback('_FusedMatMul')),
  ];
}
