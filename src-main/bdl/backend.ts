/**
 * Backend selection for the BDL library: `tensorflow` (tfjs-node, native TF) > `wasm`
 * (tfjs-backend-wasm, XNNPACK, SIMD, optionally multi-threaded) > `cpu` (pure JS, very slow for
 * convolutions: use only as a last resort).
 *
 * - `EPISTEME_BACKEND=tensorflow|wasm|cpu` forces one (and fails loudly if it cannot start).
 * - `EPISTEME_WASM_THREADS=N` sets the XNNPACK thread-pool size for wasm (default: number of
 *   cores, at most 4; `1` disables the threaded build).
 *
 * Multi-threaded wasm in Node: tfjs-backend-wasm 4.22 disables its threaded build under Node
 * (flag WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue #3830) because its pthread
 * workers are created from `blob:` URLs, which `worker_threads` cannot load. The Emscripten
 * worker script itself supports Node, so we write it to a file in os.tmpdir() (named by content
 * hash, with the main script's path substituted for the blob) and hand that path to Emscripten.
 * If preparing it fails we fall back to the single-threaded SIMD build. Measured ~1.6–1.9× faster
 * Conv2D on 2 cores (64 ms vs 102–121 ms for the Gal CNN's second conv, batch 64).
 *
 * Native kernels (`native/`, built by `npm install` when a C++ compiler is present): wasm's
 * XNNPACK is bound to 128-bit SIMD (about 10 GMAC/s on 2 cores here, against PyTorch's 60), so
 * convolutions, matmuls and a few memory-bound kernels run on AVX2 + FMA C++ instead (kernels/
 * native.ts), reading and writing the wasm heap in place. Node-API cannot address the threaded
 * build's SharedArrayBuffer, so with them wasm runs single-threaded and the native kernels use
 * the cores (`EPISTEME_NATIVE_THREADS`); `EPISTEME_NATIVE=0` turns them off.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { registerWasmTrainingKernels } from './kernels/index.ts';
import { nativeInfo, type NativeInfo } from './native/index.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** For wasm: whether the SIMD build was loaded and the XNNPACK thread count. */
  wasm?: { simd: boolean; threads: number; threaded: boolean };
  /** Kernels this library registered or replaced for the backend. */
  extraKernels: string[];
  /** For wasm: the native GEMM/convolution kernels, when built (null: XNNPACK alone). */
  native?: NativeInfo | null;
}

const require = createRequire(import.meta.url);
const ready = new Map<BackendName, Promise<boolean>>();
let wasmInfo: BackendInfo['wasm'] | undefined;
let wasmExtraKernels: string[] = [];

function envBackend(): BackendName | undefined {
  const v = process.env.EPISTEME_BACKEND?.trim().toLowerCase();
  if (!v || v === 'auto') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new Error(`EPISTEME_BACKEND='${v}' is not one of ${BACKEND_NAMES.join(', ')}, auto`);
}

function wasmThreadsWanted(): number {
  const v = process.env.EPISTEME_WASM_THREADS;
  if (v !== undefined && v.trim() !== '') {
    const n = Number.parseInt(v, 10);
    if (!Number.isFinite(n) || n < 1) throw new Error(`EPISTEME_WASM_THREADS='${v}' must be a positive integer`);
    return n;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

async function tryTensorflow(): Promise<boolean> {
  try {
    // Specifier in a variable: tfjs-node is optional and must not be resolved at type-check time.
    const spec = '@tensorflow/tfjs-node';
    await import(spec);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

/**
 * Prepares the threaded Emscripten worker as a file Node's worker_threads can load, and makes
 * the wasm backend's `URL.createObjectURL(workerBlob)` return that path during init.
 * Returns a function that undoes the patch, or null if the threaded build cannot be used.
 */
function prepareThreadedWasm(pkgDir: string): (() => void) | null {
  try {
    const outDir = path.join(pkgDir, 'wasm-out');
    const mainScript = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
    const workerModule = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js');
    if (!fs.existsSync(mainScript) || !fs.existsSync(workerModule)) return null;
    const { wasmWorkerContents } = require(workerModule) as { wasmWorkerContents: string };
    const needle =
      'var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)';
    if (!wasmWorkerContents.includes(needle)) return null;
    // Same escaping as tfjs-backend-wasm does before making its Blob (template literal → source).
    const source = wasmWorkerContents
      .replace(needle, `importScripts(${JSON.stringify(mainScript)})`)
      .replace(/\n/g, '\\n');
    new vm.Script(source); // must at least parse, or Emscripten would crash the process
    // One file per content (not per process): written once, atomically, reused by later runs.
    const hash = createHash('sha256').update(source).update(mainScript).digest('hex').slice(0, 16);
    const workerFile = path.join(os.tmpdir(), `episteme-tfjs-wasm-worker-${hash}.cjs`);
    if (!fs.existsSync(workerFile) || fs.readFileSync(workerFile, 'utf8') !== source) {
      const tmp = `${workerFile}.${process.pid}.${Date.now()}.tmp`;
      fs.writeFileSync(tmp, source);
      fs.renameSync(tmp, workerFile);
    }
    const original = URL.createObjectURL;
    URL.createObjectURL = ((obj: Blob) =>
      obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : original(obj)) as typeof URL.createObjectURL;
    return () => {
      URL.createObjectURL = original;
    };
  } catch {
    return null;
  }
}

async function tryWasm(): Promise<boolean> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return false;
  }
  const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const distDir = path.join(pkgDir, 'dist') + path.sep;
  const threads = wasmThreadsWanted();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  let restore: (() => void) | null = null;
  // With the native kernels the heavy work runs on their own threads, and the threaded build's
  // shared memory would be out of their reach.
  if (threads > 1 && simd && !nativeInfo()) {
    restore = prepareThreadedWasm(pkgDir);
    if (restore) {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      wasm.setThreadsCount(threads);
    }
  }
  try {
    wasm.setWasmPaths(distDir);
    wasmExtraKernels = registerWasmTrainingKernels('wasm');
    const ok = await tf.setBackend('wasm');
    if (ok) wasmInfo = { simd, threads: restore ? threads : 1, threaded: restore !== null };
    return ok;
  } catch {
    return false;
  } finally {
    restore?.();
  }
}

async function tryCpu(): Promise<boolean> {
  return tf.setBackend('cpu');
}

function start(name: BackendName): Promise<boolean> {
  let p = ready.get(name);
  if (!p) {
    p = name === 'tensorflow' ? tryTensorflow() : name === 'wasm' ? tryWasm() : tryCpu();
    ready.set(name, p);
  }
  return p.then(async (ok) => ok && (tf.getBackend() === name || (await tf.setBackend(name))));
}

/**
 * Initialises (once) and activates a tfjs backend and returns which one runs.
 *
 * @param prefer 'auto' (default) tries tensorflow > wasm > cpu; a name tries that one first and
 *   falls back down the same order. `EPISTEME_BACKEND` overrides `prefer` and does not fall back.
 * Idempotent and safe to call concurrently; calling with another name switches backends (tensors
 * created on the previous backend are moved lazily by tfjs when used).
 */
export async function initBackend(prefer: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  const forced = envBackend();
  if (forced) {
    if (await start(forced)) return forced;
    throw new Error(`EPISTEME_BACKEND=${forced} requested but the '${forced}' backend could not start`);
  }
  const order: BackendName[] = prefer === 'auto' ? [...BACKEND_NAMES] : [prefer, ...BACKEND_NAMES.filter((b) => b !== prefer)];
  for (const name of order) {
    if (await start(name)) return name;
  }
  throw new Error('No tfjs backend could be initialised (tried tensorflow, wasm, cpu)');
}

/** What is running, in words: e.g. "wasm (SIMD, 1 thread) + native kernels (avx2-fma, 2 threads)". */
export function describeBackend(info: BackendInfo | null = backendInfo()): string {
  if (!info) return 'none';
  if (info.name !== 'wasm' || !info.wasm) return info.name;
  const threads = (n: number) => `${n} thread${n === 1 ? '' : 's'}`;
  const wasm = `wasm (${info.wasm.simd ? 'SIMD' : 'no SIMD'}, ${threads(info.wasm.threads)})`;
  return info.native ? `${wasm} + native kernels (${info.native.isa}, ${threads(info.native.threads)})` : wasm;
}

/** What is running now (null before {@link initBackend}). */
export function backendInfo(): BackendInfo | null {
  const name = tf.getBackend() as BackendName | undefined;
  if (!name || !(BACKEND_NAMES as readonly string[]).includes(name) || !ready.has(name)) return null;
  return {
    name,
    wasm: name === 'wasm' ? wasmInfo : undefined,
    extraKernels: name === 'wasm' ? [...wasmExtraKernels] : [],
    native: name === 'wasm' ? nativeInfo() : undefined,
  };
}
