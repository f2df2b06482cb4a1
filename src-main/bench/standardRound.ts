import { readMnist } from '../bdl/data/mnist.ts';
import { runWorker } from '../jobs/runWorker.ts';
import type { TrainProgress, TrainRequest, TrainResult } from '../jobs/trainProtocol.ts';

export interface RoundResult {
  backend: string;
  /** Threads and native kernels (describeBackend). */
  backendDetail: string;
  trainSeconds: number;
  scoreSeconds: number;
  roundSeconds: number;
  testAccuracy: number;
  testNll: number;
  poolScored: number;
}

/**
 * The standard round of the README, through the app's own training worker: MNIST t10k, the first
 * 1,000 pool images labelled, the Gal et al. CNN for 20 epochs (batch 64, Adam 1e-3, L2 1e-4), the
 * other 7,000 pool images scored with T = 20 MC-dropout passes and ranked by BALD; accuracy on
 * images 8000–9999.
 */
export async function standardRound(
  mnistDir: string,
  options: { epochs?: number; onProgress?: (p: TrainProgress) => void } = {},
): Promise<RoundResult & { features: TrainResult['features'] }> {
  const mnist = readMnist(mnistDir);
  const per = mnist.imageSize * mnist.imageSize;
  const request: TrainRequest = {
    method: 'mc-dropout',
    imageSize: mnist.imageSize,
    channels: 1,
    numClasses: 10,
    epochs: options.epochs ?? 20,
    batchSize: 64,
    learningRate: 1e-3,
    weightDecay: 1e-4,
    mcSamples: 20,
    seed: 0,
    trainX: mnist.images.slice(0, 1000 * per),
    trainY: mnist.labels.slice(0, 1000),
    heldOutX: mnist.images.slice(8000 * per, 10_000 * per),
    heldOutY: mnist.labels.slice(8000, 10_000),
    poolX: mnist.images.slice(1000 * per, 8000 * per),
  };
  const started = performance.now();
  const result = await runWorker<TrainRequest, TrainProgress, TrainResult>(new URL('../jobs/trainWorker.ts', import.meta.url), request, {
    onProgress: options.onProgress,
    transfer: [request.trainX.buffer, request.heldOutX.buffer, request.poolX.buffer] as ArrayBuffer[],
  });
  const roundSeconds = (performance.now() - started) / 1000;
  return {
    backend: result.backend,
    backendDetail: result.backendDetail,
    trainSeconds: result.trainSeconds,
    scoreSeconds: result.scoreSeconds,
    roundSeconds,
    testAccuracy: result.metrics!.accuracy,
    testNll: result.metrics!.nll,
    poolScored: result.scores.epistemic.length,
    // the features the app caches for the interactive re-rank (train 0–999, held-out 8000–9999, pool 1000–7999)
    features: result.features,
  };
}
