/**
 * `Identity` and same-dtype `Cast` that share the input's data (a reference count) instead of copying it, as tfjs' cpu
 * backend and the wasm backend's own `Reshape` do. tfjs-core clones every tensor it saves for the
 * backward pass through `Identity`, and the wasm kernel copies: about 6 ms of memcpy per Gal CNN
 * training step; ReLU's gradient casts float32 to float32, another 2 ms. Safe because no wasm
 * kernel writes into its inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { originalKernel, type TensorInfo } from './util.ts';

export function makeSharingIdentityKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return originalKernel('Identity', backendName)!.kernelFunc(args);
    (args.backend as unknown as { incRef(dataId: unknown): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName, kernelFunc };
}

export function makeSharingCastKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== (args.attrs as { dtype: string }).dtype || x.dtype === 'string') return originalKernel('Cast', backendName)!.kernelFunc(args);
    (args.backend as unknown as { incRef(dataId: unknown): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: 'Cast', backendName, kernelFunc };
}
