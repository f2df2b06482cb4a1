/**
 * `EpistemeMCDropout`: a dropout layer whose masks come from an explicit seed, so MC-dropout
 * predictives are reproducible and every forward pass draws FRESH masks.
 *
 * (tfjs-layers' own `Dropout` with a fixed `seed` reuses the same mask on every call, and without
 * one uses Math.random — neither is usable for MC dropout, Gal & Ghahramani 2016.)
 *
 * Inverted dropout: y = x ⊙ m / (1 − rate), m_i ~ Bernoulli(1 − rate), active only when called
 * with `{ training: true }`. Pass `{ training: true, seed }` to control the mask; without a seed
 * the layer draws from its own stream (config `seed`, then a call counter).
 */
import * as tf from '@tensorflow/tfjs';
import { heapTensors, nativeOnWasm } from '../kernels/native.ts';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';

export interface MCDropoutArgs {
  rate: number;
  seed?: number;
  name?: string;
}

/**
 * Dropout mask scaled by 1/(1−rate), shape `shape`, drawn from `seed` (generated in JS: tfjs has
 * no backend RNG kernel on wasm). When rate·256 is an integer (0.25, 0.5, …) each 32-bit draw
 * gives four exact 8-bit Bernoulli decisions; otherwise one 32-bit draw per element.
 */
export function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const inHeap = nativeMaskInWasmHeap(shape, rate, seed);
  if (inHeap) return inHeap;
  const values = new Float32Array(size);
  const keep = 1 - rate;
  const scale = keep > 0 ? 1 / keep : 0;
  let a = seed >>> 0;
  // Mulberry32 step, inlined (see util/random.ts).
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const keep256 = keep * 256;
  if (Number.isInteger(keep256)) {
    const thr = keep256;
    const n4 = size - (size % 4);
    let i = 0;
    for (; i < n4; i += 4) {
      const t = next();
      values[i] = (t & 255) < thr ? scale : 0;
      values[i + 1] = ((t >>> 8) & 255) < thr ? scale : 0;
      values[i + 2] = ((t >>> 16) & 255) < thr ? scale : 0;
      values[i + 3] = t >>> 24 < thr ? scale : 0;
    }
    for (; i < size; i++) values[i] = (next() & 255) < thr ? scale : 0;
  } else {
    const thr = keep * 4294967296;
    for (let i = 0; i < size; i++) values[i] = next() < thr ? scale : 0;
  }
  return tf.tensor(values, shape, 'float32');
}

/**
 * The same mask written by the native kernels straight into the wasm heap (same values: the
 * addon runs the same Mulberry32 stream): no JS loop and no copy into the heap, which were most of
 * the time of MC-dropout scoring. Null when the backend is not wasm or the addon is not in use.
 */
function nativeMaskInWasmHeap(shape: number[], rate: number, seed: number): tf.Tensor | null {
  const on = nativeOnWasm();
  return on && heapTensors(on.backend, [shape], ([mask]) => on.native.dropoutMask(mask, rate, seed >>> 0))[0];
}

/** Keyword arguments understood by {@link MCDropout.call}. */
export interface MCDropoutKwargs {
  training?: boolean;
  seed?: number;
  /**
   * S > 1 (training only): input [B, …] → output [S·B, …], S independent masks per row — the
   * T stacked copies MC dropout needs, without materialising a tiled input first.
   */
  samples?: number;
  /**
   * Consistent masks (BatchBALD): every row of the batch gets the same mask for a given sample,
   * instead of one mask per (sample, row). With `samples` S > 1 the mask is [S, 1, …]; with
   * samples = 1 the input is read as `maskGroups` G (default 1) sample-major blocks [G·B, …] and
   * block g uses mask g.
   */
  sharedMask?: boolean;
  maskGroups?: number;
}

export class MCDropout extends tf.layers.Layer {
  static className = 'EpistemeMCDropout';
  readonly rate: number;
  readonly seed: number;
  private calls = 0;

  constructor(args: MCDropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`MCDropout: rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed ?? DEFAULT_SEED;
    this.supportsMasking = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: MCDropoutKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const samples = kwargs?.samples ?? 1;
      if (!kwargs?.training) {
        if (samples !== 1) throw new Error('MCDropout: samples > 1 needs training: true');
        return x.clone();
      }
      const seed = kwargs.seed ?? deriveSeed(this.seed, this.calls++);
      const shared = kwargs.sharedMask === true;
      if (samples === 1 && shared) {
        if (this.rate === 0) return x.clone();
        const groups = kwargs.maskGroups ?? 1;
        const [rows, ...inner] = x.shape;
        if (!(Number.isInteger(groups) && groups >= 1 && rows % groups === 0)) throw new Error(`MCDropout: ${rows} rows do not split into ${groups} mask groups`);
        const grouped = tf.reshape(x, [groups, rows / groups, ...inner]);
        return tf.reshape(tf.mul(grouped, dropoutMask([groups, 1, ...inner], this.rate, seed)), x.shape);
      }
      if (samples === 1) return this.rate === 0 ? x.clone() : tf.mul(x, dropoutMask(x.shape, this.rate, seed));
      const [b, ...rest] = x.shape;
      const mask = dropoutMask([samples, shared ? 1 : b, ...rest], this.rate, seed);
      return tf.reshape(tf.mul(mask, tf.expandDims(x, 0)), [samples * b, ...rest]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

tf.serialization.registerClass(MCDropout);
