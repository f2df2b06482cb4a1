/**
 * Scoring of feature rows with S weight draws of a last-layer head: predictive samples [S, n, C]
 * chunk by chunk (headProbabilities), then the stored scores (BALD etc., poolScores). Runs on the
 * main thread (yielding between chunks) or in rerankWorker.ts on a shard of a large pool.
 */
import { headProbabilities } from '../bdl/posterior/headLogits.ts';
import type { LastLayerHead } from '../bdl/posterior/lastLayerHead.ts';
import { poolScores } from '../jobs/poolScores.ts';
import type { PoolScores } from '../jobs/trainProtocol.ts';

/** Rows per chunk: probabilities [S, 512, C] stay in L2 for the column-wise decomposition. */
const CHUNK_ROWS = 512;

export interface HeadScoringJob {
  kind: LastLayerHead['kind'];
  /** Rows to score [n, dim], row-major. */
  phi: Float32Array;
  dim: number;
  /** Weight draws W̃ [dim+1, S·C] from headWeightSamples. */
  w: Float32Array;
  samples: number;
  numClasses: number;
}

export async function scoreHeadRows(job: HeadScoringJob, betweenChunks?: () => Promise<void>): Promise<PoolScores> {
  const { phi, dim, w, samples: S, numClasses: C } = job;
  const n = phi.length / dim;
  if (!Number.isInteger(n)) throw new Error(`scoreHeadRows: ${phi.length} values are not rows of ${dim}`);
  const scores = emptyPoolScores(n, C);
  for (let start = 0; start < n; start += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, n - start);
    const probs = new Float32Array(S * count * C);
    headProbabilities(job.kind, phi.subarray(start * dim, (start + count) * dim), dim, w, S, C, probs, { start: 0, count, total: count });
    copyScores(poolScores({ probs, shape: [S, count, C] }, C), scores, start, C);
    await betweenChunks?.();
  }
  return scores;
}

export function emptyPoolScores(n: number, c: number): PoolScores {
  const f = (k: number) => new Float32Array(n * k);
  return { predicted: new Int32Array(n), probsMean: f(c), probsLower: f(c), probsUpper: f(c), epistemic: f(1), aleatoric: f(1), entropy: f(1), margin: f(1), varRatios: f(1), meanStd: f(1) };
}

/** Copies `from` (scores of rows start, start + 1, …) into `to`. */
export function copyScores(from: PoolScores, to: PoolScores, start: number, c: number): void {
  for (const key of Object.keys(from) as (keyof PoolScores)[]) {
    const width = key === 'probsMean' || key === 'probsLower' || key === 'probsUpper' ? c : 1;
    (to[key] as Float32Array | Int32Array).set(from[key] as Float32Array & Int32Array, start * width);
  }
}
