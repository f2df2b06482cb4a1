/**
 * `BatchMatMul` / `_FusedMatMul` wrappers that materialise transposes before calling the
 * backend's kernel. In tfjs-backend-wasm 4.22 only the non-transposed case reaches XNNPACK's
 * GEMM; `transposeA`/`transposeB` fall back to a slow path (measured ~9× / ~4× slower on the dense
 * layer gradients dW = xᵀ·dy and dx = dy·Wᵀ). An explicit Transpose + plain matmul is cheaper.
 */
import * as tf from '@tensorflow/tfjs';
import { originalKernel, withKernelScope, type TensorInfo } from './util.ts';

function swapLast2(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}

export function makeTransposeFreeMatMulKernel(
  kernelName: 'BatchMatMul' | '_FusedMatMul',
  backendName: string,
): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = (args) => {
    const orig = originalKernel(kernelName, backendName);
    if (!orig || orig.kernelFunc === kernelFunc) {
      throw new Error(`${kernelName} (${backendName}): no underlying kernel to delegate to`);
    }
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args);
    return withKernelScope(args.backend, backendName, (s) => {
      const inputs = { ...(args.inputs as Record<string, TensorInfo>) };
      if (attrs.transposeA) inputs.a = s.transpose(inputs.a, swapLast2(inputs.a.shape.length));
      if (attrs.transposeB) inputs.b = s.transpose(inputs.b, swapLast2(inputs.b.shape.length));
      return s.run(kernelName, inputs, { ...attrs, transposeA: false, transposeB: false });
    });
  };
  return { kernelName, backendName, kernelFunc };
}
