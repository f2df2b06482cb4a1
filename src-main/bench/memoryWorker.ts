/**
 * Worker for the memory benchmark: several rounds (train + score + features + serialise, as the
 * training worker does) in ONE thread, so leaks that a fresh worker per round would hide add up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { createPosterior, initBackend } from '../bdl/index.ts';
import { poolScores } from '../jobs/poolScores.ts';
import type { WorkerMessage } from '../jobs/runWorker.ts';
import type { MemoryRound, MemoryRequest } from './memoryRounds.ts';

const post = (message: WorkerMessage<MemoryRound, MemoryRound[]>) => parentPort!.postMessage(message);

async function main(request: MemoryRequest): Promise<MemoryRound[]> {
  await initBackend('auto');
  const rounds: MemoryRound[] = [];
  for (let round = 1; round <= request.rounds; round++) {
    const started = performance.now();
    const posterior = createPosterior({ method: 'mc-dropout', imageSize: request.imageSize, channels: 1, numClasses: request.numClasses, seed: round, mcSamples: 20 });
    try {
      await posterior.fit(request.trainX, request.trainY, { epochs: request.epochs, batchSize: 64, learningRate: 1e-3, weightDecay: 1e-4, seed: round });
      const samples = await posterior.predictiveSamples(request.poolX, { withFeatures: true });
      poolScores(samples, request.numClasses);
      await posterior.features(request.trainX);
      await posterior.serialize();
    } finally {
      posterior.dispose();
    }
    const m = tf.memory();
    const r: MemoryRound = { round, seconds: (performance.now() - started) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20, numTensors: m.numTensors, tensorMb: m.numBytes / 2 ** 20 };
    rounds.push(r);
    post({ type: 'progress', progress: r });
  }
  return rounds;
}

main(workerData as MemoryRequest).then(
  (result) => post({ type: 'result', result }),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
