/** Shared helpers for the BDL tests (not a test file itself). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/** ../shared/data/mnist-t10k beside the repository root. */
export const MNIST_DIR = path.resolve(here, '../../../shared/data/mnist-t10k');

export function mnistAvailable(): boolean {
  return (
    fs.existsSync(path.join(MNIST_DIR, 't10k-images-idx3-ubyte.gz')) &&
    fs.existsSync(path.join(MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))
  );
}

export const MNIST_SKIP = `MNIST t10k not found at ${MNIST_DIR} (../shared is absent): skipping`;

/** Deterministic pseudo-random floats in [lo, hi). */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}

/** ‖a − b‖∞ / max(‖b‖∞, tiny): normwise relative error. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

/** Runs `f` and checks it leaves no tensor behind. Returns f's value. */
export async function noLeak<T>(f: () => Promise<T> | T): Promise<{ value: T; leaked: number }> {
  const before = tf.memory().numTensors;
  const value = await f();
  return { value, leaked: tf.memory().numTensors - before };
}

export function approx(actual: number, expected: number, tol = 1e-6): boolean {
  return Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
}
