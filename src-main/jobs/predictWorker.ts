/** Worker thread: loads a saved model version and returns its predictive samples for some images. */
import { parentPort, workerData } from 'node:worker_threads';
import { deserializePosterior, initBackend } from '../bdl/index.ts';
import type { WorkerMessage } from './runWorker.ts';
import type { PredictRequest, PredictResult } from './trainProtocol.ts';

type Progress = { fraction: number };
const post = (message: WorkerMessage<Progress, PredictResult>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

async function main(request: PredictRequest): Promise<PredictResult> {
  const backend = await initBackend('auto');
  const posterior = await deserializePosterior({ json: JSON.parse(request.posteriorJson), weights: request.weights });
  try {
    const samples = await posterior.predictiveSamples(request.x, {
      samples: request.samples,
      onProgress: (p) => post({ type: 'progress', progress: { fraction: p.fraction } }),
    });
    return { backend, probs: samples.probs, shape: samples.shape };
  } finally {
    posterior.dispose();
  }
}

main(workerData as PredictRequest).then(
  (result) => post({ type: 'result', result }, [result.probs.buffer as ArrayBuffer]),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
