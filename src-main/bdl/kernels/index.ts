/**
 * Extra kernels for the wasm backend so the Gal CNN (and similar conv nets) can be TRAINED on it.
 *
 * Found by training one step of the Gal CNN on tfjs-backend-wasm 4.22 (see test/bdl/kernels.test.ts):
 * - `Conv2DBackpropFilter` is missing → registered (conv-of-transposes, see conv2dBackpropFilter.ts);
 * - `Conv2DBackpropInput` exists but is ~10× slower than Conv2D → replaced (transposed convolution);
 * - `MaxPoolGrad` exists but disagrees with the cpu kernel for overlapping, padded pools with
 *   batch/channels > 1 (3×3/2 'same' on [2,9,9,3]: 33% relative error) → replaced entirely
 *   (argmax/one-hot, with a reshape/transpose fast path for the non-overlapping 2×2/2 pool);
 * - `BatchMatMul` / `_FusedMatMul` with transposeA/B are slow → wrapped with explicit transposes.
 * ReLU's gradient is `dy · step(x)` in tfjs-core (no ReluGrad kernel), and Step exists on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { makeTransposeFreeMatMulKernel } from './batchMatMul.ts';
import { makeConv2DBackpropFilterKernel } from './conv2dBackpropFilter.ts';
import { makeConv2DBackpropInputKernel } from './conv2dBackpropInput.ts';
import { makeMaxPoolGradKernel } from './maxPoolGrad.ts';
import { registerOrReplaceKernel } from './util.ts';

export { makeConv2DBackpropFilterKernel, makeConv2DBackpropInputKernel, makeMaxPoolGradKernel, makeTransposeFreeMatMulKernel };
export { KernelScope, originalKernel, registerOrReplaceKernel, isOverridden } from './util.ts';

/** Kernel names this module registers (or replaces) for the wasm backend. */
export const WASM_EXTRA_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
] as const;

const configs = new Map<string, tf.KernelConfig[]>();

function configsFor(backendName: string): tf.KernelConfig[] {
  let c = configs.get(backendName);
  if (!c) {
    c = [
      makeConv2DBackpropFilterKernel(backendName),
      makeConv2DBackpropInputKernel(backendName),
      makeMaxPoolGradKernel(backendName),
      makeTransposeFreeMatMulKernel('BatchMatMul', backendName),
      makeTransposeFreeMatMulKernel('_FusedMatMul', backendName),
    ];
    configs.set(backendName, c);
  }
  return c;
}

/**
 * Registers the extra training kernels for the wasm backend. Idempotent; returns the names newly
 * registered by this call. Safe before or after the backend is initialised.
 */
export function registerWasmTrainingKernels(backendName = 'wasm'): string[] {
  const done: string[] = [];
  for (const c of configsFor(backendName)) if (registerOrReplaceKernel(c)) done.push(c.kernelName);
  return done;
}
