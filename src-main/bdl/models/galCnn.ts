/**
 * The CNN of Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017
 * (§5.1; the Keras model of their code release):
 *
 *   conv 32@4×4 ReLU → conv 32@4×4 ReLU → max-pool 2 → dropout 0.25 → dense 128 ReLU
 *   → dropout 0.5 → dense C (softmax applied by the posterior; the layer outputs logits).
 *
 * Input [N, H, W, C] float32 in [0, 1], H = W ∈ {28, 64, 128, 224}, C ∈ {1, 3}; 'valid' padding
 * (Keras default), Glorot-uniform kernels and zero biases, seeded.
 *
 * Split for MC dropout (Gal & Ghahramani 2016): the layers before the first dropout are
 * deterministic, so `trunk(x)` runs ONCE per image and only `head` runs T times — the same
 * predictive as T full passes, at a fraction of the cost.
 *
 *   trunk:       [N,H,W,C] → conv → conv → pool → [N, h', w', 32]   (h' = ⌊(H − 6)/2⌋)
 *   penultimate: [N,h',w',32] → dropout 0.25 → flatten → dense 128 ReLU → [N, 128]
 *   lastLayer:   [N,128] → dropout 0.5 → dense C → logits [N, C]
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';
import { MCDropout } from './mcDropout.ts';

export const GAL_CNN_IMAGE_SIZES = [28, 64, 128, 224] as const;
export const GAL_CNN_CHANNELS = [1, 3] as const;

export interface GalCnnConfig {
  /** H = W, one of {@link GAL_CNN_IMAGE_SIZES}. */
  imageSize: number;
  channels: number;
  numClasses: number;
  seed?: number;
  /** Defaults are the paper's. */
  filters?: number;
  kernelSize?: number;
  poolSize?: number;
  hidden?: number;
  dropoutTrunk?: number;
  dropoutHead?: number;
}

/** Which dropout layers sample a mask in a forward pass. */
export type DropoutMode = 'none' | 'all' | 'last-layer';

export interface HeadOptions {
  /** Default 'none' (the deterministic network, "weight averaging" of Srivastava et al. 2014). */
  dropout?: DropoutMode;
  /** Seed for the dropout masks of this call. */
  seed?: number;
  /**
   * S ≥ 1: run S stochastic passes at once — the first stochastic dropout layer expands its
   * input [B, …] to [S·B, …] with independent masks; the outputs are sample-major [S·B, …]
   * (row s·B + b is sample s of image b). Requires dropout ≠ 'none' when S > 1.
   */
  samples?: number;
  /** Consistent masks: sample s uses the same dropout masks for every image of the batch (BatchBALD). */
  sharedMask?: boolean;
  /** With sharedMask and samples = 1: the input is this many sample-major blocks, one mask each. */
  maskGroups?: number;
}

/** Layer names, stable across versions (serialised models depend on them). */
export const GAL_CNN_LAYERS = {
  trunk: ['conv1', 'conv2', 'pool'],
  penultimate: ['dropout1', 'flatten', 'dense1'],
  lastLayer: ['dropout2', 'logits'],
} as const;

export function validateGalCnnConfig(c: GalCnnConfig): void {
  if (!(GAL_CNN_IMAGE_SIZES as readonly number[]).includes(c.imageSize)) {
    throw new Error(`imageSize must be one of ${GAL_CNN_IMAGE_SIZES.join(', ')}; got ${c.imageSize}`);
  }
  if (!(GAL_CNN_CHANNELS as readonly number[]).includes(c.channels)) {
    throw new Error(`channels must be 1 or 3; got ${c.channels}`);
  }
  if (!Number.isInteger(c.numClasses) || c.numClasses < 2) {
    throw new Error(`numClasses must be an integer ≥ 2; got ${c.numClasses}`);
  }
}

/** Builds the Keras-style model (all layers, logits output). Weights are seeded. */
export function buildGalCnn(config: GalCnnConfig): tf.Sequential {
  validateGalCnnConfig(config);
  const seed = config.seed ?? DEFAULT_SEED;
  const filters = config.filters ?? 32;
  const kernelSize = config.kernelSize ?? 4;
  const init = (i: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, i) });
  const model = tf.sequential({ name: 'gal_cnn' });
  model.add(
    tf.layers.conv2d({
      name: 'conv1',
      inputShape: [config.imageSize, config.imageSize, config.channels],
      filters,
      kernelSize,
      activation: 'relu',
      padding: 'valid',
      kernelInitializer: init(1),
    }),
  );
  model.add(tf.layers.conv2d({ name: 'conv2', filters, kernelSize, activation: 'relu', padding: 'valid', kernelInitializer: init(2) }));
  model.add(tf.layers.maxPooling2d({ name: 'pool', poolSize: config.poolSize ?? 2 }));
  model.add(new MCDropout({ name: 'dropout1', rate: config.dropoutTrunk ?? 0.25, seed: deriveSeed(seed, 101) }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense1', units: config.hidden ?? 128, activation: 'relu', kernelInitializer: init(3) }));
  model.add(new MCDropout({ name: 'dropout2', rate: config.dropoutHead ?? 0.5, seed: deriveSeed(seed, 102) }));
  model.add(tf.layers.dense({ name: 'logits', units: config.numClasses, kernelInitializer: init(4) }));
  return model;
}

/**
 * The Gal CNN as trunk / penultimate / last layer, wrapping a `tf.LayersModel` built by
 * {@link buildGalCnn} (or loaded from its serialisation). Every method returns a new tensor and
 * leaks nothing (tf.tidy inside); the caller disposes what it gets.
 */
export class GalCnn {
  private readonly trunkLayers: tf.layers.Layer[];
  private readonly penultimateLayers: tf.layers.Layer[];
  private readonly lastLayers: tf.layers.Layer[];

  constructor(readonly model: tf.LayersModel) {
    const get = (names: readonly string[]) => names.map((n) => model.getLayer(n));
    this.trunkLayers = get(GAL_CNN_LAYERS.trunk);
    this.penultimateLayers = get(GAL_CNN_LAYERS.penultimate);
    this.lastLayers = get(GAL_CNN_LAYERS.lastLayer);
  }

  static create(config: GalCnnConfig): GalCnn {
    return new GalCnn(buildGalCnn(config));
  }

  /** [H, W, C] of the input. */
  get inputShape(): [number, number, number] {
    const s = this.model.inputs[0].shape;
    return [s[1]!, s[2]!, s[3]!];
  }

  get numClasses(): number {
    return this.model.outputs[0].shape[1]!;
  }

  /** Dimension of the penultimate features (128 in the paper). */
  get featureDim(): number {
    return (this.model.getLayer('dense1') as unknown as { units: number }).units;
  }

  /** Trainable variables (kernels and biases). */
  get trainableVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** x [N,H,W,C] float32 in [0,1] → trunk output [N, h', w', filters]. Deterministic. */
  trunk(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => applyAll(this.trunkLayers, x, {}) as tf.Tensor4D);
  }

  /**
   * h [N, h', w', filters] (trunk output) → penultimate features [N, featureDim] (after ReLU,
   * before the last dropout). Samples the trunk dropout when `dropout === 'all'`.
   */
  penultimate(h: tf.Tensor4D, opts: HeadOptions = {}): tf.Tensor2D {
    const training = opts.dropout === 'all';
    const samples = opts.samples ?? 1;
    if (samples > 1 && !training) throw new Error('penultimate: samples > 1 needs dropout "all"');
    return tf.tidy(() => applyAll(this.penultimateLayers, h, { training, seed: opts.seed, samples, sharedMask: opts.sharedMask, maskGroups: opts.maskGroups }) as tf.Tensor2D);
  }

  /**
   * z [N, featureDim] → logits [N, C] (or [S·N, C] with `samples`). Samples the last dropout
   * unless `dropout === 'none'`.
   */
  lastLayer(z: tf.Tensor2D, opts: HeadOptions = {}): tf.Tensor2D {
    const training = opts.dropout === 'all' || opts.dropout === 'last-layer';
    const samples = opts.samples ?? 1;
    if (samples > 1 && !training) throw new Error('lastLayer: samples > 1 needs dropout');
    const seed = opts.seed === undefined ? undefined : deriveSeed(opts.seed, 1);
    return tf.tidy(() => applyAll(this.lastLayers, z, { training, seed, samples, sharedMask: opts.sharedMask, maskGroups: opts.maskGroups }) as tf.Tensor2D);
  }

  /**
   * h [N, h', w', filters] → logits [N, C], or [S·N, C] (sample-major) with `samples`: the
   * expansion happens at the first stochastic dropout ('all': dropout1, 'last-layer': dropout2).
   */
  head(h: tf.Tensor4D, opts: HeadOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      if (opts.dropout === 'all') {
        // The input of the last dropout is already [S·B, …]: with shared masks, one per sample block.
        return this.lastLayer(this.penultimate(h, opts), { ...opts, samples: 1, maskGroups: opts.samples ?? 1 });
      }
      return this.lastLayer(this.penultimate(h, { ...opts, dropout: 'none', samples: 1 }), opts);
    });
  }

  /** x [N,H,W,C] → logits [N, C]. */
  logits(x: tf.Tensor4D, opts: HeadOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.head(this.trunk(x), opts));
  }

  dispose(): void {
    this.model.dispose();
  }
}

function applyAll(
  layers: tf.layers.Layer[],
  x: tf.Tensor,
  kwargs: { training?: boolean; seed?: number; samples?: number; sharedMask?: boolean; maskGroups?: number },
): tf.Tensor {
  let h = x;
  layers.forEach((layer, i) => {
    const seed = kwargs.seed === undefined ? undefined : deriveSeed(kwargs.seed, 1000 + i);
    // Only dropout layers understand `samples`; other layers get plain kwargs.
    const isDropout = layer instanceof MCDropout;
    const kw = isDropout
      ? { training: kwargs.training ?? false, seed, samples: kwargs.samples ?? 1, sharedMask: kwargs.sharedMask, maskGroups: kwargs.maskGroups }
      : { training: kwargs.training ?? false };
    h = layer.apply(h, kw) as tf.Tensor;
  });
  return h;
}
