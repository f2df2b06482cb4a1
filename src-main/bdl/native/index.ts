/**
 * The optional native compute kernels (the C++ files beside this one: gemm.cc, conv.cc and the
 * Node-API entry points), built by `npm install` through node-gyp into
 * `build/Release/episteme_kernels.node`. Node-API, so one build serves Node and Electron.
 *
 * - `EPISTEME_NATIVE=0` disables them (the wasm backend then runs XNNPACK's kernels alone);
 * - `EPISTEME_NATIVE_THREADS=N` sets their thread count (default: cores, at most 4).
 *
 * All arrays are row-major float32 and are read and written in place; none may be backed by a
 * SharedArrayBuffer (Node-API cannot address one), which is why the wasm backend is started
 * single-threaded when these kernels are in use.
 */
import { createRequire } from 'node:module';
import os from 'node:os';

export interface NativeKernels {
  /** c[m×n] = (accumulate ? c : 0) + op(a)·op(b); op(a) is [m×k] (a stored [k×m] when transposeA). */
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transposeA: number, transposeB: number, accumulate: number): void;
  /** y [n,oh,ow,co] = act(conv(x [n,h,w,ci], w [fh,fw,ci,co]) + bias [co]); act = ReLU when relu = 1. */
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, dims: Int32Array, relu: number): void;
  /** dw [fh,fw,ci,co] from x [n,h,w,ci] and dy [n,oh,ow,co]. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, dims: Int32Array): void;
  /** dx [n,h,w,ci] from dy [n,oh,ow,co] and w [fh,fw,ci,co]. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** dx [n,h,w,c]: dy [n,oh,ow,c] routed to each window's first maximum of x; dims [n,h,w,c,ph,pw,sh,sw,pt,pl,oh,ow]. */
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** out[j] = Σ_i x[i·cols + j], accumulated in float64. */
  columnSums(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** out[i·cols + j] = x[i·cols + j] + row[j]. */
  addRow(x: Float32Array, row: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** The inverted-dropout mask of models/mcDropout.ts (values 0 or 1/(1−rate)), value for value. */
  dropoutMask(out: Float32Array, rate: number, seed: number): void;
  /** One Adam step into new arrays; h = [lr, β₁, β₂, ε, 1 − β₁ᵗ, 1 − β₂ᵗ] (see optim/adam.ts). */
  adamStep(x: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, xOut: Float32Array, mOut: Float32Array, vOut: Float32Array, h: Float64Array): void;
  setThreads(n: number): number;
  /** 'avx2-fma' or 'generic' (portable C++, auto-vectorised by the compiler). */
  isa(): string;
}

export interface NativeInfo {
  isa: string;
  threads: number;
}

/** Where the addon is: beside this file in the source tree, or beside the Electron bundle. */
const ADDON_PATHS = ['./build/Release/episteme_kernels.node', './native/episteme_kernels.node'];
let loaded: { kernels: NativeKernels; info: NativeInfo } | null | undefined;

function threadsWanted(): number {
  const v = process.env.EPISTEME_NATIVE_THREADS;
  if (v !== undefined && v.trim() !== '') {
    const n = Number.parseInt(v, 10);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`EPISTEME_NATIVE_THREADS='${v}' must be an integer in 1..64`);
    return n;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

/** The native kernels, or null when disabled or not built (then callers use the wasm kernels). */
export function nativeKernels(): NativeKernels | null {
  return loadNative()?.kernels ?? null;
}

/** What the native kernels run with, or null when they are not in use. */
export function nativeInfo(): NativeInfo | null {
  return loadNative()?.info ?? null;
}

function loadNative(): { kernels: NativeKernels; info: NativeInfo } | null {
  if (loaded !== undefined) return loaded;
  if (process.env.EPISTEME_NATIVE?.trim() === '0') return (loaded = null);
  const require = createRequire(import.meta.url);
  let kernels: NativeKernels | null = null;
  for (const addon of ADDON_PATHS) {
    try {
      kernels = require(addon) as NativeKernels;
      break;
    } catch {
      /* not built, or not there: try the next place */
    }
  }
  if (!kernels) return (loaded = null);
  const threads = kernels.setThreads(threadsWanted());
  return (loaded = { kernels, info: { isa: kernels.isa(), threads } });
}
