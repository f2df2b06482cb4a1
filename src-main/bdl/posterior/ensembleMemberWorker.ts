/**
 * Worker thread: trains ONE deep-ensemble member (a 'map' posterior with the member's seed) and
 * posts back its serialisation. Started by posterior/ensemble.ts through jobs/runWorker.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend.ts';
import type { WorkerMessage } from '../../jobs/runWorker.ts';
import type { MemberRequest, MemberResult } from './ensemble.ts';
import { createPosterior } from './registry.ts';
import type { FitProgress } from './types.ts';

const post = (m: WorkerMessage<FitProgress, MemberResult>, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

async function main(r: MemberRequest): Promise<MemberResult> {
  // This thread's copy of the environment: do not oversubscribe the cores with wasm threads.
  if (!process.env.EPISTEME_WASM_THREADS) process.env.EPISTEME_WASM_THREADS = String(Math.max(1, r.wasmThreads));
  await initBackend(r.backend);
  const member = createPosterior(r.options);
  try {
    const report = await member.fit(r.x, r.y, { ...r.fit, onProgress: (p) => post({ type: 'progress', progress: p }) });
    const s = await member.serialize();
    return { json: s.json, weights: s.weights, report };
  } finally {
    member.dispose();
  }
}

if (parentPort) {
  main(workerData as MemberRequest).then(
    (result) => post({ type: 'result', result }, [result.weights]),
    (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined }),
  );
}
