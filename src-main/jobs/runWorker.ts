import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

export class CancelledError extends Error {
  constructor(what = 'job') {
    super(`${what} cancelled`);
  }
}

/** Messages a job worker posts: progress any number of times, then one result or one error. */
export type WorkerMessage<P, R> = { type: 'progress'; progress: P } | { type: 'result'; result: R } | { type: 'error'; message: string; stack?: string };

/**
 * Worker threads do not inherit tsx's loader from the main thread, so a TypeScript entry (running
 * from source) is started through a small bootstrap that registers tsx first. Bundled builds name
 * compiled `.cjs` entries and start them directly.
 */
function startWorker(entry: URL, options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsxApi = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Runs one request in a fresh worker thread. Cancelling terminates the thread at once: nothing the
 * worker computed is kept, and the caller writes results only after the promise resolves.
 */
export function runWorker<Req, P, R>(
  entry: URL,
  request: Req,
  options: { onProgress?: (progress: P) => void; signal?: AbortSignal; transfer?: ArrayBuffer[] } = {},
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new CancelledError());
    const worker = startWorker(entry, { workerData: request, transferList: options.transfer });
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      action();
      void worker.terminate();
    };
    const onAbort = () => finish(() => reject(new CancelledError()));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerMessage<P, R>) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else if (message.type === 'result') finish(() => resolve(message.result));
      else finish(() => reject(Object.assign(new Error(message.message), { stack: message.stack })));
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`worker stopped unexpectedly (exit code ${code})`))));
  });
}
