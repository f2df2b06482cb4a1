import fs from 'node:fs';
import path from 'node:path';
import type { ModelVersion } from '../db/models.ts';
import type { Project } from '../db/project.ts';
import { runWorker } from './runWorker.ts';
import type { PredictRequest, PredictResult } from './trainProtocol.ts';

/** Predictive samples [S, N, C] of a stored model version for images given as [N, H, W, C] uint8. */
export async function predictWithVersion(
  project: Project,
  version: ModelVersion,
  x: Uint8Array,
  options: { samples?: number; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<PredictResult> {
  const dir = path.join(project.dir, version.weightsFile);
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const request: PredictRequest = {
    posteriorJson: fs.readFileSync(path.join(dir, 'posterior.json'), 'utf8'),
    weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    x,
    samples: options.samples,
  };
  return runWorker<PredictRequest, { fraction: number }, PredictResult>(new URL('./predictWorker.ts', import.meta.url), request, {
    onProgress: (p) => options.onProgress?.(p.fraction),
    signal: options.signal,
    transfer: [request.weights, x.buffer as ArrayBuffer],
  });
}
