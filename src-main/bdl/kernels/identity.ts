/**
 * `Identity` and same-dtype `Cast` that share the input's data (a reference count) instead of copying it, as tfjs' cpu
 * backend and the wasm backend's own `Reshape` do. tfjs-core clones every tensor it saves for the
 * backward pass through `Identity`, and the wasm kernel copies: about 6 ms of memcpy per Gal CNN
 * training step; ReLU's gradient casts float32 to float32, another 2 ms. Safe because no wasm
 * kernel writes into its inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { originalKernel, type TensorInfo } from './util.ts';

/** The input itself, one more reference to its data. */
function share(args: Parameters<tf.KernelFunc>[0]): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  (args.backend as unknown as { incRef(dataId: unknown): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export function makeSharingIdentityKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) =>
    (args.inputs as { x: TensorInfo }).x.dtype === 'string' ? originalKernel('Identity', backendName)!.kernelFunc(args) : share(args);
  return { kernelName: 'Identity', backendName, kernelFunc };
}

export function makeSharingCastKernel(backendName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const same = x.dtype === (args.attrs as { dtype: string }).dtype && x.dtype !== 'string';
    return same ? share(args) : originalKernel('Cast', backendName)!.kernelFunc(args);
  };
  return { kernelName: 'Cast', backendName, kernelFunc };
}
