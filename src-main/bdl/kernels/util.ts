/**
 * Helpers for composing backend kernels out of other kernels of the same backend.
 *
 * A kernel registered with `tf.registerKernel` receives and returns `TensorInfo`s (data ids, not
 * `tf.Tensor`s) and must not call the high-level `tf.*` ops: it runs inside the engine's own
 * `runKernel`. So composite kernels call the backend's other kernel functions directly and dispose
 * every intermediate with `backend.disposeData` — which is what {@link KernelScope} does.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** Kernel functions we replaced, so a replacement can delegate to the original (by backend). */
const originals = new Map<string, tf.KernelConfig>();

function key(kernelName: string, backendName: string): string {
  return `${backendName}/${kernelName}`;
}

/** The original kernel config, if we overrode it; otherwise whatever is currently registered. */
export function originalKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return originals.get(key(kernelName, backendName)) ?? tf.getKernel(kernelName, backendName);
}

/**
 * Registers `config`, replacing (and remembering) a kernel already registered under the same name.
 * The original's `setupFunc` is kept, so the original can still be called after backend init.
 * Returns false when `config.kernelFunc` is already the registered one (idempotent).
 */
export function registerOrReplaceKernel(config: tf.KernelConfig): boolean {
  const existing = tf.getKernel(config.kernelName, config.backendName);
  if (existing?.kernelFunc === config.kernelFunc) return false;
  let setupFunc = config.setupFunc;
  if (existing) {
    const k = key(config.kernelName, config.backendName);
    if (!originals.has(k)) originals.set(k, existing);
    setupFunc = setupFunc ?? originals.get(k)!.setupFunc;
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel({ ...config, setupFunc });
  return true;
}

/** True when `kernelName` on `backendName` is one of ours replacing a backend kernel. */
export function isOverridden(kernelName: string, backendName: string): boolean {
  return originals.has(key(kernelName, backendName));
}

/**
 * Runs kernels of one backend and keeps track of every intermediate `TensorInfo` so they can be
 * released together (`dispose()` in a `finally`). Call `keep(t)` on the value you return.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
  ) {}

  /** Runs `kernelName` on this backend (the original kernel if we replaced it). */
  run(kernelName: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Attrs = {}): TensorInfo {
    const out = this.runMulti(kernelName, inputs, attrs);
    if (out.length !== 1) throw new Error(`Kernel '${kernelName}' returned ${out.length} outputs; use runMulti`);
    return out[0];
  }

  /** Like {@link run} for kernels with several outputs (Unpack, SplitV…). Array inputs for Pack/AddN/Concat. */
  runMulti(kernelName: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Attrs = {}): TensorInfo[] {
    const config = originalKernel(kernelName, this.backendName);
    if (!config) throw new Error(`Kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    const out = config.kernelFunc({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    });
    const list = Array.isArray(out) ? out : [out];
    this.temps.push(...list);
    return list;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * Takes the window `[start_d, start_d + length_d)` of every axis d of `x`, reading zeros outside
   * the tensor: a crop where the window is inside, padding with `padValue` (default 0) where it
   * sticks out (start < 0 or past the end). Used for convolution padding and its adjoint.
   */
  window(x: TensorInfo, start: number[], length: number[], padValue = 0): TensorInfo {
    const rank = x.shape.length;
    const begin: number[] = [];
    const size: number[] = [];
    const paddings: [number, number][] = [];
    let crop = false;
    let pad = false;
    for (let d = 0; d < rank; d++) {
      const n = x.shape[d];
      const s = start[d] ?? 0;
      const len = length[d] ?? n;
      const b = Math.max(0, s);
      const e = Math.min(n, s + len);
      const inside = Math.max(0, e - b);
      begin.push(inside > 0 ? b : 0);
      size.push(inside);
      const before = inside > 0 ? Math.max(0, -s) : len;
      paddings.push([before, len - inside - before]);
      if (b !== 0 || inside !== n) crop = true;
      if (before !== 0 || len - inside - before !== 0) pad = true;
    }
    let y = x;
    if (crop) y = this.run('Slice', { x: y }, { begin, size });
    if (pad) y = this.run('PadV2', { x: y }, { paddings, constantValue: padValue });
    return y;
  }

  /** Marks `t` as the result: it will not be disposed by `dispose()`. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.temps.lastIndexOf(t);
    if (i >= 0) {
      this.temps.splice(i, 1);
      return t;
    }
    // `t` is one of the kernel's inputs (nothing was computed): hand back a new reference.
    (this.backend as unknown as { incRef(dataId: unknown): void }).incRef(t.dataId);
    return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
  }

  /** Releases every intermediate not kept. */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** Runs `f` with a fresh {@link KernelScope}; the value returned by `f` is kept, the rest freed. */
export function withKernelScope(
  backend: unknown,
  backendName: string,
  f: (s: KernelScope) => TensorInfo,
): TensorInfo {
  const scope = new KernelScope(backend as tf.KernelBackend, backendName);
  try {
    return scope.keep(f(scope));
  } finally {
    scope.dispose();
  }
}

/** Normalises a stride/size attribute to [h, w]. */
export function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1]];
}
