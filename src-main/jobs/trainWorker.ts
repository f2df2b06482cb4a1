/**
 * Worker thread: trains a posterior, measures it on the held-out labels, and scores the pool.
 * Everything here runs off the main thread; the main thread only sees progress and the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createPosterior, describeBackend, evaluate, initBackend, uncertaintyDecomposition, type Posterior, type PredictiveSamples } from '../bdl/index.ts';
import type { Metrics } from '../db/models.ts';
import type { WorkerMessage } from './runWorker.ts';
import { emptyScores, poolScores } from './poolScores.ts';
import type { TrainProgress, TrainRequest, TrainResult } from './trainProtocol.ts';

const post = (message: WorkerMessage<TrainProgress, TrainResult>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

async function main(request: TrainRequest): Promise<TrainResult> {
  const backend = await initBackend('auto');
  const posterior = createPosterior({
    method: request.method,
    architecture: request.architecture,
    imageSize: request.imageSize,
    channels: request.channels,
    numClasses: request.numClasses,
    seed: request.seed,
    mcSamples: request.mcSamples,
    backbone: request.backbone,
    prior: request.prior,
    priorPrecision: request.priorPrecision,
  });
  try {
    const started = performance.now();
    const fit = await posterior.fit(request.trainX, request.trainY, {
      epochs: request.epochs,
      batchSize: request.batchSize,
      learningRate: request.learningRate,
      weightDecay: request.weightDecay,
      seed: request.seed,
      onProgress: (p) => post({ type: 'progress', progress: { phase: 'training', fraction: 0.85 * p.fraction, epoch: p.epoch, epochs: p.epochs, loss: p.loss } }),
    });
    const trainSeconds = (performance.now() - started) / 1000;

    let metrics: Metrics | null = null;
    let heldOut: PredictiveSamples | null = null;
    if (request.heldOutY.length > 0) {
      heldOut = await posterior.predictiveSamples(request.heldOutX, { withFeatures: true });
      metrics = { ...evaluate(uncertaintyDecomposition(heldOut).mean, request.heldOutY, request.numClasses), heldOut: request.heldOutY.length };
    }
    const scoringStarted = performance.now();
    const poolSize = request.poolX.length / (request.imageSize * request.imageSize * request.channels);
    const samples = await posterior.predictiveSamples(request.poolX, {
      withFeatures: true,
      onProgress: (p: { fraction: number }) => post({ type: 'progress', progress: { phase: 'scoring', fraction: 0.85 + 0.15 * p.fraction } }),
    });
    const scores = poolSize > 0 ? poolScores(samples, request.numClasses) : emptyScores();
    const serialized = await posterior.serialize();
    const scoreSeconds = (performance.now() - scoringStarted) / 1000;
    const featuresStarted = performance.now();
    const features = {
      dim: posterior.network.featureDim,
      train: (await posterior.features(request.trainX)).features,
      heldOut: await featuresOf(posterior, request.heldOutX, heldOut),
      pool: await featuresOf(posterior, request.poolX, samples),
      seconds: 0,
    };
    features.seconds = (performance.now() - featuresStarted) / 1000;
    return {
      backend,
      backendDetail: describeBackend(),
      posteriorJson: JSON.stringify(serialized.json),
      weights: serialized.weights,
      metrics,
      trainSeconds,
      scoreSeconds,
      scores,
      features,
      ...(fit.inclusion ? { inclusion: fit.inclusion } : {}),
    };
  } finally {
    posterior.dispose();
  }
}

/** Features for the re-rank cache: from the predictive pass when it computed them, else a features pass. */
async function featuresOf(posterior: Posterior, x: Uint8Array, samples: PredictiveSamples | null): Promise<Float32Array> {
  return samples?.features ?? (await posterior.features(x)).features;
}

main(workerData as TrainRequest).then(
  (result) => post({ type: 'result', result }, [result.weights, result.features.train.buffer, result.features.heldOut.buffer, result.features.pool.buffer] as ArrayBuffer[]),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
