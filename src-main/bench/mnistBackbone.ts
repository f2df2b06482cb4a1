/**
 * A backbone for the LoRA methods in the MNIST comparison: the Gal et al. CNN as a plain TF.js
 * LayersModel (conv 32@4×4 ReLU, conv 32@4×4 ReLU, max-pool 2, dropout 0.25, dense 128 ReLU,
 * dropout 0.5, dense 10 softmax), trained on the SAME labelled images as every other method (no
 * other labels, no test images), then saved as a LayersModel folder — as a clinician would import
 * last year's model. The LoRA methods adapt its dense 128 layer and train new heads.
 */
import * as tf from '@tensorflow/tfjs';
import { saveLayersModelToDisk } from '../bdl/lora/io.ts';
import type { MnistSet } from '../bdl/data/mnist.ts';

export async function trainMnistBackbone(train: MnistSet, dir: string, options: { epochs: number; batchSize: number; seed: number }): Promise<void> {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: options.seed * 31 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [train.imageSize, train.imageSize, 1], filters: 32, kernelSize: 4, activation: 'relu', kernelInitializer: init(1), name: 'conv1' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 4, activation: 'relu', kernelInitializer: init(2), name: 'conv2' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.dropout({ rate: 0.25, seed: options.seed, name: 'drop1' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(3), name: 'features' }),
      tf.layers.dropout({ rate: 0.5, seed: options.seed + 1, name: 'drop2' }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(4), name: 'classes' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  const n = train.labels.length;
  const xs = tf.tidy(() => tf.div(tf.tensor4d(train.images, [n, train.imageSize, train.imageSize, 1], 'int32').toFloat(), 255));
  const ys = tf.tensor1d(train.labels, 'float32');
  try {
    await model.fit(xs, ys, { epochs: options.epochs, batchSize: options.batchSize, verbose: 0, shuffle: false });
    await saveLayersModelToDisk(model, dir);
  } finally {
    tf.dispose([xs, ys]);
    model.dispose();
  }
}
