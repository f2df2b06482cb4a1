/**
 * The CNN of Gal, Islam & Ghahramani, "Deep Bayesian Active Learning with Image Data", ICML 2017
 * (§5.1; the Keras model of their code release):
 *
 *   conv 32@4×4 ReLU → conv 32@4×4 ReLU → max-pool 2 → dropout 0.25 → dense 128 ReLU
 *   → dropout 0.5 → dense C (softmax applied by the posterior; the layer outputs logits).
 *
 * Input [N, H, W, C] float32 in [0, 1], H = W ∈ {28, 64, 128}, C ∈ {1, 3}; 'valid' padding
 * (Keras default), Glorot-uniform kernels and zero biases, seeded.
 *
 * The split for MC dropout (trunk / penultimate / last layer) is ConvNet's (convNet.ts):
 *
 *   trunk:       [N,H,W,C] → conv → conv → pool → [N, h', w', 32]   (h' = ⌊(H − 6)/2⌋)
 *   penultimate: [N,h',w',32] → dropout 0.25 → flatten → dense 128 ReLU → [N, 128]
 *   lastLayer:   [N,128] → dropout 0.5 → dense C → logits [N, C]
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, deriveSeed } from '../util/random.ts';
import { validateArchitecture, type Architecture } from '../architectures.ts';
import { MCDropout } from './mcDropout.ts';

export interface GalCnnConfig {
  /** H = W, one of the sizes architectures.ts allows for 'gal-cnn'. */
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

/** Layer names, stable across versions (serialised models depend on them). */
export const GAL_CNN_LAYERS = {
  trunk: ['conv1', 'conv2', 'pool'],
  penultimate: ['dropout1', 'flatten', 'dense1'],
  lastLayer: ['dropout2', 'logits'],
} as const;

/** Refuses an input the architecture does not take and an invalid class count (clear Errors). */
export function validateNetworkInput(c: GalCnnConfig, architecture: Architecture = 'gal-cnn'): void {
  validateArchitecture(architecture, c.imageSize, c.channels);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 2) {
    throw new Error(`numClasses must be an integer ≥ 2; got ${c.numClasses}`);
  }
}

/** Builds the Keras-style model (all layers, logits output). Weights are seeded. */
export function buildGalCnn(config: GalCnnConfig): tf.Sequential {
  validateNetworkInput(config);
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
  addHead(model, config, seed);
  return model;
}

/**
 * The layers after the trunk, the same for every architecture (so the last-layer methods, VI and
 * the feature cache see one head): dropout → flatten → dense ReLU → dropout → dense C (logits).
 */
export function addHead(model: tf.Sequential, config: GalCnnConfig, seed: number): void {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, i) });
  model.add(new MCDropout({ name: 'dropout1', rate: config.dropoutTrunk ?? 0.25, seed: deriveSeed(seed, 101) }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense1', units: config.hidden ?? 128, activation: 'relu', kernelInitializer: init(3) }));
  model.add(new MCDropout({ name: 'dropout2', rate: config.dropoutHead ?? 0.5, seed: deriveSeed(seed, 102) }));
  model.add(tf.layers.dense({ name: 'logits', units: config.numClasses, kernelInitializer: init(4) }));
}
