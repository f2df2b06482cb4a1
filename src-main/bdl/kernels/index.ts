/**
 * Extra kernels for the wasm backend so the Gal CNN (and similar conv nets) can be TRAINED on it.
 *
 * Found by training one step of the Gal CNN on tfjs-backend-wasm 4.22 (see test/bdl/kernels.test.ts):
 * - `Conv2DBackpropFilter` is missing → registered (conv-of-transposes, see conv2dBackpropFilter.ts);
 * - `Conv2DBackpropInput` exists but is ~10× slower than Conv2D → replaced (transposed convolution);
 * - `MaxPoolGrad` exists but disagrees with the cpu kernel for overlapping, padded pools with
 *   batch/channels > 1 (3×3/2 'same' on [2,9,9,3]: 33% relative error) → replaced entirely
 *   (argmax/one-hot, with a reshape/transpose fast path for the non-overlapping 2×2/2 pool);
 * - `BatchMatMul` / `_FusedMatMul` with transposeA/B are slow → wrapped with explicit transposes;
 * - `Identity` copies, and tfjs-core clones every tensor saved for backprop → shares instead; so
 *   does `Cast` to the same dtype (ReLU's gradient casts the float32 step(x) to float32).
 * ReLU's gradient is `dy · step(x)` in tfjs-core (no ReluGrad kernel), and Step exists on wasm.
 *
 * When the native kernels of `../native` are built, the convolutions and matmuls (forward and
 * gradients) run on them instead (see native.ts), with the kernels above as fallbacks.
 */
import * as tf from '@tensorflow/tfjs';
import { makeTransposeFreeMatMulKernel } from './batchMatMul.ts';
import { makeConv2DBackpropFilterKernel } from './conv2dBackpropFilter.ts';
import { makeConv2DBackpropInputKernel } from './conv2dBackpropInput.ts';
import { makeSharingCastKernel, makeSharingIdentityKernel } from './identity.ts';
import { makeMaxPoolGradKernel } from './maxPoolGrad.ts';
import { makeNativeKernels } from './native.ts';
import { nativeKernels, type NativeKernels } from '../native/index.ts';
import { originalKernel, registerOrReplaceKernel } from './util.ts';

export { makeConv2DBackpropFilterKernel, makeConv2DBackpropInputKernel, makeMaxPoolGradKernel, makeTransposeFreeMatMulKernel };
export { KernelScope, originalKernel, registerOrReplaceKernel, isOverridden } from './util.ts';

/** Kernel names this module registers (or replaces) for the wasm backend. */
export const WASM_EXTRA_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'Identity',
  'Cast',
] as const;

/** Also replaced when the native kernels are in use. */
export const NATIVE_KERNELS = ['Add', 'MaxPoolGrad', 'Sum', 'Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', '_FusedMatMul'] as const;

const configs = new Map<string, tf.KernelConfig[]>();

function configsFor(backendName: string, native: NativeKernels | null): tf.KernelConfig[] {
  const cacheKey = `${backendName}/${native ? 'native' : 'wasm'}`;
  let c = configs.get(cacheKey);
  if (!c) {
    const composed = [
      makeConv2DBackpropFilterKernel(backendName),
      makeConv2DBackpropInputKernel(backendName),
      makeMaxPoolGradKernel(backendName),
      makeTransposeFreeMatMulKernel('BatchMatMul', backendName),
      makeTransposeFreeMatMulKernel('_FusedMatMul', backendName),
      makeSharingIdentityKernel(backendName),
      makeSharingCastKernel(backendName),
    ];
    if (native) {
      const byName = new Map(composed.map((k) => [k.kernelName, k.kernelFunc]));
      const fallbacks = new Map(NATIVE_KERNELS.map((name) => [name, () => byName.get(name) ?? originalKernel(name, backendName)?.kernelFunc]));
      const replaced = new Set<string>(NATIVE_KERNELS);
      c = [...composed.filter((k) => !replaced.has(k.kernelName)), ...makeNativeKernels(native, backendName, fallbacks)];
    } else {
      c = composed;
    }
    configs.set(cacheKey, c);
  }
  return c;
}

/**
 * Registers the extra training kernels for the wasm backend — on the native kernels when they are
 * built and enabled (`native`, default: {@link nativeKernels}). Idempotent; returns the names newly
 * registered by this call. Safe before or after the backend is initialised.
 */
export function registerWasmTrainingKernels(backendName = 'wasm', native: NativeKernels | null = nativeKernels()): string[] {
  const done: string[] = [];
  for (const c of configsFor(backendName, native)) if (registerOrReplaceKernel(c)) done.push(c.kernelName);
  return done;
}
