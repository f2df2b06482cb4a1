/**
 * The network every posterior holds: a trunk of either architecture (architectures.ts) and the
 * shared head (galCnn.ts `addHead`), split for MC dropout (Gal & Ghahramani 2016): the layers
 * before the first dropout are deterministic, so `trunk(x)` runs ONCE per image and only `head`
 * runs T times — the same predictive as T full passes, at a fraction of the cost.
 *
 *   trunk:       [N,H,W,C] → gal-cnn: conv → conv → pool → [N, h', w', 32]
 *                          resnet: residual stages → global average pool → [N, 1, 1, 128]
 *   penultimate: [N,h',w',F] → dropout 0.25 → flatten → dense 128 ReLU → [N, 128]
 *   lastLayer:   [N,128] → dropout 0.5 → dense C → logits [N, C]
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../architectures.ts';
import { denseWith, flattenFeatures, poolSizeOf, trunkWith } from '../layers/galCnnParams.ts';
import { deriveSeed } from '../util/random.ts';
import { buildGalCnn, GAL_CNN_LAYERS, type GalCnnConfig } from './galCnn.ts';
import { MCDropout } from './mcDropout.ts';
import { buildResNet, inputPoolFor, residualTrunkWith } from './resnet.ts';

export interface NetworkConfig extends GalCnnConfig {
  /** Default 'gal-cnn' (the network of models stored before architectures existed). */
  architecture?: Architecture;
}

/** Layer names of the residual CNN (the head's are the Gal CNN's). */
export const RESNET_LAYERS = {
  trunk: ['trunk'],
  penultimate: GAL_CNN_LAYERS.penultimate,
  lastLayer: GAL_CNN_LAYERS.lastLayer,
} as const;

/** Builds the Keras-style model of `config.architecture` (all layers, logits output). Weights are seeded. */
export function buildNetwork(config: NetworkConfig): tf.Sequential {
  return (config.architecture ?? 'gal-cnn') === 'resnet' ? buildResNet(config) : buildGalCnn(config);
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

/**
 * A network of either architecture as trunk / penultimate / last layer, wrapping a
 * `tf.LayersModel` built by {@link buildNetwork} (or loaded from its serialisation). Every method
 * returns a new tensor and leaks nothing (tf.tidy inside); the caller disposes what it gets.
 */
export class ConvNet {
  readonly architecture: Architecture;
  private readonly trunkLayers: tf.layers.Layer[];
  private readonly penultimateLayers: tf.layers.Layer[];
  private readonly lastLayers: tf.layers.Layer[];

  constructor(readonly model: tf.LayersModel) {
    const names = model.layers.map((l) => l.name);
    this.architecture = names.includes(RESNET_LAYERS.trunk[0]) ? 'resnet' : 'gal-cnn';
    const layers = this.architecture === 'resnet' ? RESNET_LAYERS : GAL_CNN_LAYERS;
    const get = (list: readonly string[]) => list.map((n) => model.getLayer(n));
    this.trunkLayers = get(layers.trunk);
    this.penultimateLayers = get(layers.penultimate);
    this.lastLayers = get(layers.lastLayer);
  }

  static create(config: NetworkConfig): ConvNet {
    return new ConvNet(buildNetwork(config));
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

  /**
   * Trainable variables in the order of the explicit-weight functions: the trunk's (gal-cnn:
   * [K₁, b₁, K₂, b₂]; resnet: residualTrunkShapes), then the head's [W₁, c₁, W₂, c₂].
   */
  get trainableVariables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** How many of {@link trainableVariables} belong to the trunk (the rest are the head's four). */
  get trunkParamCount(): number {
    return this.model.trainableWeights.length - 4;
  }

  /** Trunk with explicit weights (the first {@link trunkParamCount} of a parameter list): x → [B, h', w', F]. */
  trunkWith(x: tf.Tensor4D, trunkParams: readonly tf.Tensor[]): tf.Tensor4D {
    if (this.architecture === 'resnet') return residualTrunkWith(x, trunkParams, inputPoolFor(this.inputShape[0]));
    return trunkWith(x, [trunkParams[0], trunkParams[1]], [trunkParams[2], trunkParams[3]], poolSizeOf(this));
  }

  /** Whole network with explicit weights (order of {@link trainableVariables}), no dropout: x → logits [B, C]. */
  logitsWith(x: tf.Tensor4D, params: readonly tf.Tensor[]): tf.Tensor2D {
    return tf.tidy(() => {
      const t = this.trunkParamCount;
      const z = denseWith(flattenFeatures(this.trunkWith(x, params.slice(0, t))), params[t], params[t + 1], true);
      return denseWith(z, params[t + 2], params[t + 3], false);
    });
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
