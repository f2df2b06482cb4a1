/**
 * Worker thread of the simulator: one run (one acquisition function, one seed, every round). The
 * main thread sees progress (throttled), each finished round, then the result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../bdl/index.ts';
import type { WorkerMessage } from '../jobs/runWorker.ts';
import { runActiveLearning } from './loop.ts';
import type { RunProgress, RunRequest, RunResult } from './protocol.ts';

const post = (message: WorkerMessage<RunProgress, RunResult>) => parentPort!.postMessage(message);

async function main(request: RunRequest): Promise<RunResult> {
  const backend = await initBackend('auto');
  let lastPhase = 0;
  const { records, seconds } = await runActiveLearning(request, {
    onProgress: (progress) => {
      // Rounds always; phase updates (one per training batch) a few times a second.
      if (progress.kind === 'phase') {
        const now = Date.now();
        if (now - lastPhase < 200) return;
        lastPhase = now;
      }
      post({ type: 'progress', progress });
    },
  });
  return { backend, records, seconds };
}

main(workerData as RunRequest).then(
  (result) => post({ type: 'result', result }),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
