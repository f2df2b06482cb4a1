/**
 * optim/adam.ts against tfjs' own AdamOptimizer: the same trajectory on the wasm backend (the
 * native fused step when the addon is built) and on cpu (tfjs ops), and no leaked tensors.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/bdl/backend.ts';
import { Adam } from '../../src-main/bdl/optim/adam.ts';
import { randomArray } from './helpers.ts';

async function trajectory(make: () => tf.Optimizer): Promise<Float32Array[]> {
  const before = tf.memory().numTensors;
  const [w, b] = tf.tidy(() => [tf.variable(tf.tensor2d(randomArray(60, 1), [12, 5])), tf.variable(tf.tensor1d(randomArray(5, 2)))]);
  const x = tf.tensor2d(randomArray(8 * 12, 3), [8, 12]);
  const y = tf.tensor2d(randomArray(8 * 5, 4), [8, 5]);
  const optimizer = make();
  for (let i = 0; i < 7; i++) {
    optimizer.minimize(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar, false, [w, b]);
  }
  const out = [(await w.data()) as Float32Array, (await b.data()) as Float32Array];
  optimizer.dispose();
  tf.dispose([w, b, x, y]);
  assert.equal(tf.memory().numTensors, before, 'leaked tensors');
  return out;
}

describe('Adam', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    test(`follows tfjs' AdamOptimizer on ${backend}`, async () => {
      await initBackend(backend);
      const ours = await trajectory(() => new Adam(0.05));
      const theirs = await trajectory(() => tf.train.adam(0.05));
      for (let i = 0; i < ours.length; i++) {
        const worst = ours[i].reduce((m, v, j) => Math.max(m, Math.abs(v - theirs[i][j])), 0);
        assert.ok(worst < 1e-5, `variable ${i}: differs by ${worst}`);
      }
      // and it did move: 7 steps of 0.05 from the random start
      const start = randomArray(60, 1);
      assert.ok(ours[0].some((v, j) => Math.abs(v - start[j]) > 0.1));
    });
  }
});
