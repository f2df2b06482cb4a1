/**
 * Worker thread of regression projects: fits the GP regressor (hyper-parameters by marginal
 * likelihood), measures it on the held-out labels and scores the pool; or predicts with a saved one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GpRegressor, regressionMetrics, type GpRegressorJson } from '../regression/gpRegressor.ts';
import type { GpPredictRequest, GpPredictResult, GpProgress, GpTrainRequest, GpTrainResult } from './gpProtocol.ts';
import type { WorkerMessage } from './runWorker.ts';

type Result = GpTrainResult | GpPredictResult;
const post = (message: WorkerMessage<GpProgress, Result>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);
const progress = (phase: GpProgress['phase'], fraction: number) => post({ type: 'progress', progress: { phase, fraction } });

function train(request: GpTrainRequest): GpTrainResult {
  const started = performance.now();
  progress('training', 0);
  const model = GpRegressor.fit({
    imageSize: request.imageSize,
    channels: request.channels,
    trainX: request.trainX,
    trainY: request.trainY,
    unlabelledX: [request.heldOutX, request.poolX],
    seed: request.seed,
  });
  const metrics = request.heldOutY.length > 0 ? regressionMetrics(model.predict(request.heldOutX), request.heldOutY) : null;
  const trainSeconds = (performance.now() - started) / 1000;
  progress('scoring', 0.8);
  const scoring = performance.now();
  const pool = model.predict(request.poolX, (f) => progress('scoring', 0.8 + 0.2 * f));
  const { json, weights } = model.serialize();
  return { modelJson: JSON.stringify(json), model: json, weights, metrics, trainSeconds, scoreSeconds: (performance.now() - scoring) / 1000, pool };
}

function predict(request: GpPredictRequest): GpPredictResult {
  const model = GpRegressor.deserialize(JSON.parse(request.modelJson) as GpRegressorJson, request.weights);
  return model.predict(request.x, (f) => progress('scoring', f));
}

try {
  const request = workerData as GpTrainRequest | GpPredictRequest;
  const result = request.kind === 'train' ? train(request) : predict(request);
  const buffers = 'pool' in result ? [result.weights, result.pool.mean.buffer, result.pool.latentVariance.buffer, result.pool.predictiveVariance.buffer] : [result.mean.buffer, result.latentVariance.buffer, result.predictiveVariance.buffer];
  post({ type: 'result', result }, buffers as ArrayBuffer[]);
} catch (error) {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined });
}
