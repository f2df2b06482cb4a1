/**
 * Benchmarks of the interactive path (src-main/ranking/rerank.ts) on real features: the
 * re-rank of the standard split after a few new labels, and the ranking of a 100,000-image pool
 * with the last-layer method. The main thread's longest stall is measured too, since the app
 * runs the re-rank there.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { rerankFeatures } from '../ranking/rerank.ts';

export interface RerankBench {
  labelled: number;
  scored: number;
  seconds: number;
  fitSeconds: number;
  scoreSeconds: number;
  /** Longest event-loop stall during the re-rank (ms, 10 ms resolution). */
  maxStallMs: number;
}

async function timed(run: () => Promise<{ fitSeconds: number; scoreSeconds: number }>): Promise<Omit<RerankBench, 'labelled' | 'scored'> & { extraSeconds: number }> {
  const monitor = monitorEventLoopDelay({ resolution: 10 });
  monitor.enable();
  const started = performance.now();
  const r = await run();
  const seconds = (performance.now() - started) / 1000;
  monitor.disable();
  return { seconds, fitSeconds: r.fitSeconds, scoreSeconds: r.scoreSeconds, maxStallMs: monitor.max / 1e6, extraSeconds: seconds - r.fitSeconds - r.scoreSeconds };
}

/**
 * Interactive re-rank of the standard split: features Φ [N, D] with rows 0…labelled−1 labelled
 * and `newLabels` more pool rows labelled since the training; the remaining pool rows up to
 * `poolEnd` are rescored (S = 20, BALD etc.).
 */
export async function interactiveRerankBench(phi: Float32Array, dim: number, labels: Int32Array, o: { labelled: number; newLabels: number; poolEnd: number; numClasses: number }): Promise<RerankBench> {
  const labelledRows = Array.from({ length: o.labelled + o.newLabels }, (_, i) => i);
  const scoreRows = Array.from({ length: o.poolEnd - labelledRows.length }, (_, i) => labelledRows.length + i);
  const t = await timed(() => rerankFeatures(phi, dim, labelledRows, labels.slice(0, labelledRows.length), scoreRows, o.numClasses));
  return { labelled: labelledRows.length, scored: scoreRows.length, seconds: t.seconds, fitSeconds: t.fitSeconds, scoreSeconds: t.scoreSeconds, maxStallMs: t.maxStallMs };
}

export interface PoolRankBench extends RerankBench {
  /** Head sampling + predictive + scores + sort: the ranking itself, without the head's fit. */
  rankSeconds: number;
  sortSeconds: number;
}

/**
 * Ranks a pool of `poolSize` feature rows (the given rows repeated) by BALD with the last-layer
 * head fitted on rows 0…labelled−1; `workers` as in rerankFeatures (1: on this thread alone).
 */
export async function poolRankBench(phi: Float32Array, dim: number, labels: Int32Array, o: { labelled: number; poolSize: number; numClasses: number; workers?: number }): Promise<PoolRankBench> {
  const rows = phi.length / dim;
  const pool = new Float32Array(o.poolSize * dim);
  for (let r = 0; r < o.poolSize; r++) pool.set(phi.subarray((r % rows) * dim, ((r % rows) + 1) * dim), r * dim);
  const all = new Float32Array(pool.length + o.labelled * dim);
  all.set(phi.subarray(0, o.labelled * dim));
  all.set(pool, o.labelled * dim);
  let sortSeconds = 0;
  const t = await timed(async () => {
    const r = await rerankFeatures(all, dim, Array.from({ length: o.labelled }, (_, i) => i), labels.slice(0, o.labelled), Array.from({ length: o.poolSize }, (_, i) => o.labelled + i), o.numClasses, { workers: o.workers });
    const sortStarted = performance.now();
    const bald = r.scores.epistemic;
    Int32Array.from(bald.keys()).sort((a, b) => bald[b] - bald[a]);
    sortSeconds = (performance.now() - sortStarted) / 1000;
    return r;
  });
  return { labelled: o.labelled, scored: o.poolSize, seconds: t.seconds, fitSeconds: t.fitSeconds, scoreSeconds: t.scoreSeconds, maxStallMs: t.maxStallMs, sortSeconds, rankSeconds: t.scoreSeconds + sortSeconds };
}
