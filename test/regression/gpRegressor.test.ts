/**
 * The GP regressor on raw images: the cap on the points the final GP conditions on, loading a saved
 * model (α and the Cholesky factor, no refit) and clear errors for bad input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GpRegressor } from '../../src-main/regression/gpRegressor.ts';

const SIDE = 12;

/** Images [N, 12, 12, 1] uint8 whose disc brightness and radius grow with the value in [0, 10]. */
function discImages(values: number[], seed: number): Uint8Array {
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const x = new Uint8Array(values.length * SIDE * SIDE);
  values.forEach((v, n) => {
    for (let r = 0; r < SIDE; r++)
      for (let c = 0; c < SIDE; c++) {
        const inside = Math.hypot(r - SIDE / 2 + 0.5, c - SIDE / 2 + 0.5) < 2 + 0.3 * v;
        x[n * SIDE * SIDE + r * SIDE + c] = Math.round((inside ? 40 + 20 * v : 20) + (random() - 0.5) * 20);
      }
  });
  return x;
}

const values = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => Math.round(((10 * ((i * 7 + offset) % n)) / (n - 1)) * 100) / 100);

test('the final GP conditions on a seeded subset of at most maxPoints images; a saved model predicts the same without a refit', () => {
  const y = values(60);
  const trainX = discImages(y, 1);
  const test = values(15, 3);
  const testX = discImages(test, 2);
  const model = GpRegressor.fit({ imageSize: SIDE, channels: 1, trainX, trainY: Float64Array.from(y), unlabelledX: [testX], seed: 4, maxPoints: 25 });
  assert.equal(model.json.nTrain, 25);
  assert.equal(model.json.nLabelled, 60);
  const before = model.predict(testX);
  // Still a useful model on the subset: predictions follow the truth.
  const rmse = Math.sqrt(test.reduce((a, v, i) => a + (v - before.mean[i]) ** 2, 0) / test.length);
  assert.ok(rmse < 1.5, `RMSE ${rmse}`);

  const { json, weights } = model.serialize();
  const { p, k } = json.basis;
  // Basis, features [25, K], α [25] and the packed lower triangle of the Cholesky factor [25·26/2].
  assert.equal(weights.byteLength / 8, p + k * p + 25 * k + 25 + (25 * 26) / 2);
  const loaded = GpRegressor.deserialize(JSON.parse(JSON.stringify(json)), weights.slice(0));
  const after = loaded.predict(testX);
  for (let i = 0; i < test.length; i++) {
    assert.equal(after.mean[i], before.mean[i]);
    assert.equal(after.latentVariance[i], before.latentVariance[i]);
    assert.equal(after.predictiveVariance[i], before.predictiveVariance[i]);
  }

  // Without a cap the GP conditions on all 60 and the variance at the training inputs is no larger.
  const all = GpRegressor.fit({ imageSize: SIDE, channels: 1, trainX, trainY: Float64Array.from(y), unlabelledX: [testX], seed: 4 });
  assert.equal(all.json.nTrain, 60);
  const atTrain = (m: GpRegressor) => m.predict(trainX).latentVariance.reduce((a, v) => a + v, 0);
  assert.ok(atTrain(all) < atTrain(model), `${atTrain(all)} vs ${atTrain(model)}`);
});

test('a wrong image buffer and too few labels get their own messages; a damaged model file is refused', () => {
  const y = values(10);
  const x = discImages(y, 1);
  const fit = (trainX: Uint8Array, trainY: number[]) => GpRegressor.fit({ imageSize: SIDE, channels: 1, trainX, trainY: Float64Array.from(trainY), unlabelledX: [], seed: 0 });
  assert.throws(() => fit(x.subarray(0, x.length - 1), y), /1439 image bytes for 10 labels, expected 10 × 12×12×1/);
  assert.throws(() => fit(x.subarray(0, 2 * SIDE * SIDE), y.slice(0, 2)), /at least 3 labelled images \(have 2\)/);
  const { json, weights } = fit(x, y).serialize();
  assert.throws(() => GpRegressor.deserialize(json, weights.slice(8)), /weights have \d+ values, expected \d+/);
  assert.throws(() => GpRegressor.deserialize({ ...json, format: 'episteme-gp-regressor/1' as never }, weights), /train it again/);
});
