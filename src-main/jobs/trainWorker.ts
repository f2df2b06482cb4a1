/**
 * Worker thread: trains a posterior, measures it on the held-out labels, and scores the pool.
 * Everything here runs off the main thread; the main thread only sees progress and the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { acquisitionFunctions, createPosterior, evaluate, initBackend, uncertaintyDecomposition, type PredictiveSamples } from '../bdl/index.ts';
import type { Metrics } from '../db/models.ts';
import type { WorkerMessage } from './runWorker.ts';
import type { PoolScores, TrainProgress, TrainRequest, TrainResult } from './trainProtocol.ts';

const post = (message: WorkerMessage<TrainProgress, TrainResult>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

function poolScores(samples: PredictiveSamples, numClasses: number): PoolScores {
  const decomposition = uncertaintyDecomposition(samples);
  const n = decomposition.epistemic.length;
  const predicted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (decomposition.mean[i * numClasses + c] > decomposition.mean[i * numClasses + best]) best = c;
    predicted[i] = best;
  }
  return {
    predicted,
    probsMean: decomposition.mean,
    probsLower: decomposition.lower,
    probsUpper: decomposition.upper,
    epistemic: decomposition.epistemic,
    aleatoric: decomposition.aleatoric,
    entropy: acquisitionFunctions.entropy.score(samples),
    margin: acquisitionFunctions.margin.score(samples),
    varRatios: acquisitionFunctions['var-ratios'].score(samples),
    meanStd: acquisitionFunctions['mean-std'].score(samples),
  };
}

async function main(request: TrainRequest): Promise<TrainResult> {
  const backend = await initBackend('auto');
  const posterior = createPosterior({
    method: request.method,
    imageSize: request.imageSize,
    channels: request.channels,
    numClasses: request.numClasses,
    seed: request.seed,
    mcSamples: request.mcSamples,
  });
  try {
    const started = performance.now();
    await posterior.fit(request.trainX, request.trainY, {
      epochs: request.epochs,
      batchSize: request.batchSize,
      learningRate: request.learningRate,
      weightDecay: request.weightDecay,
      seed: request.seed,
      onProgress: (p) => post({ type: 'progress', progress: { phase: 'training', fraction: 0.85 * p.fraction, epoch: p.epoch, epochs: p.epochs, loss: p.loss } }),
    });
    const trainSeconds = (performance.now() - started) / 1000;

    let metrics: Metrics | null = null;
    if (request.heldOutY.length > 0) {
      const heldOut = await posterior.predictiveSamples(request.heldOutX);
      metrics = { ...evaluate(uncertaintyDecomposition(heldOut).mean, request.heldOutY, request.numClasses), heldOut: request.heldOutY.length };
    }
    const scoringStarted = performance.now();
    const poolSize = request.poolX.length / (request.imageSize * request.imageSize * request.channels);
    const samples = await posterior.predictiveSamples(request.poolX, {
      onProgress: (p: { fraction: number }) => post({ type: 'progress', progress: { phase: 'scoring', fraction: 0.85 + 0.15 * p.fraction } }),
    });
    const scores = poolSize > 0 ? poolScores(samples, request.numClasses) : emptyScores();
    const serialized = await posterior.serialize();
    return {
      backend,
      posteriorJson: JSON.stringify(serialized.json),
      weights: serialized.weights,
      metrics,
      trainSeconds,
      scoreSeconds: (performance.now() - scoringStarted) / 1000,
      scores,
    };
  } finally {
    posterior.dispose();
  }
}

function emptyScores(): PoolScores {
  const f = () => new Float32Array(0);
  return { predicted: new Int32Array(0), probsMean: f(), probsLower: f(), probsUpper: f(), epistemic: f(), aleatoric: f(), entropy: f(), margin: f(), varRatios: f(), meanStd: f() };
}

main(workerData as TrainRequest).then(
  (result) => post({ type: 'result', result }, [result.weights]),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
