/** A small pretrained TF.js backbone and generated tasks for the LoRA tests (not a test file itself). */
import * as tf from '@tensorflow/tfjs';
import { saveLayersModelToDisk } from '../../src-main/bdl/lora/io.ts';
import { mulberry32 } from '../../src-main/bdl/util/random.ts';
import { bars } from './methodFixtures.ts';

/** Three classes at 28×28×1: a bright vertical bar on the left, in the middle, or on the right. */
export function verticalBars(n: number, seed: number): { x: Uint8Array; y: Int32Array } {
  const rand = mulberry32(seed);
  const x = new Uint8Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    const c0 = 2 + 8 * y[i] + Math.floor(rand() * 5);
    for (let p = 0; p < 784; p++) x[i * 784 + p] = Math.floor(rand() * 40);
    for (let r = 4; r < 24; r++) for (let c = c0; c < c0 + 3; c++) x[i * 784 + r * 28 + c] = 200 + Math.floor(rand() * 55);
  }
  return { x, y };
}

/** Uniform noise images (out of distribution for every task here). */
export function noiseImages(n: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length: n * 784 }, () => Math.floor(rand() * 256));
}

/**
 * conv 4@5×5/2 → flatten → dense 16 ReLU (d1) → dense 3 tanh (d2) → dense 2 softmax (out), seeded,
 * pretrained for `epochs` on the horizontal bars task (top vs bottom). Its features for the LoRA
 * methods are d2's output (the layer before its class layer).
 */
export async function pretrainedBackbone(epochs = 6): Promise<tf.Sequential> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 5, strides: 2, activation: 'relu', name: 'c1', kernelInitializer: init(1) }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 16, activation: 'relu', name: 'd1', kernelInitializer: init(2) }));
  m.add(tf.layers.dense({ units: 3, activation: 'tanh', name: 'd2', kernelInitializer: init(3) }));
  m.add(tf.layers.dense({ units: 2, activation: 'softmax', name: 'out', kernelInitializer: init(4) }));
  m.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy' });
  const data = bars(200, 11);
  const xs = tf.tidy(() => tf.div(tf.tensor4d(data.x, [200, 28, 28, 1], 'int32').toFloat(), 255));
  const ys = tf.tensor1d(data.y, 'float32');
  try {
    await m.fit(xs, ys, { epochs, batchSize: 32, verbose: 0, shuffle: false });
  } finally {
    tf.dispose([xs, ys]);
  }
  return m;
}

/** Saves `model` as a TF.js LayersModel folder. */
export async function writeBackbone(model: tf.LayersModel, dir: string): Promise<string> {
  await saveLayersModelToDisk(model, dir);
  return dir;
}
