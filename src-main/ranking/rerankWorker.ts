/** Worker thread: scores one shard of a large pool with the head's weight draws (headScoring.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerMessage } from '../jobs/runWorker.ts';
import type { PoolScores } from '../jobs/trainProtocol.ts';
import { scoreHeadRows, type HeadScoringJob } from './headScoring.ts';

const post = (message: WorkerMessage<never, PoolScores>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

scoreHeadRows(workerData as HeadScoringJob).then(
  (scores) => post({ type: 'result', result: scores }, Object.values(scores).map((a: Float32Array | Int32Array) => a.buffer as ArrayBuffer)),
  (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
);
