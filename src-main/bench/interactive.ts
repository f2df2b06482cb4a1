/**
 * The interactive-path part of `episteme bench`: (a) re-rank of the standard split after 10 new
 * labels, (b) ranking a large pool with the last-layer method, (c) memory over consecutive rounds.
 * (a) and (b) use the features of the standard round's network (trained as the round trains it).
 */
import os from 'node:os';
import { readMnist } from '../bdl/data/mnist.ts';
import type { TrainResult } from '../jobs/trainProtocol.ts';
import { fixed } from '../cli/output.ts';
import { memoryRounds, FLAT_RSS_MB, type MemoryBench } from './memoryRounds.ts';
import { interactiveRerankBench, poolRankBench, type PoolRankBench, type RerankBench } from './rerankBench.ts';

export interface InteractiveBench {
  rerank: RerankBench & { newLabels: number; goalSeconds: 2 };
  poolRank: (PoolRankBench & { goalSeconds: 10; trunkSecondsEstimate: number; workers: number }) | null;
  /** The same ranking on one core (this thread), to show what the scoring workers add. */
  poolRankOneCore: PoolRankBench | null;
  memory: MemoryBench | null;
}

export async function interactiveBench(
  mnistDir: string,
  features: TrainResult['features'],
  o: { poolSize: number; memoryRounds: number; memoryEpochs: number; onMemoryRound?: (round: number) => void },
): Promise<InteractiveBench> {
  const mnist = readMnist(mnistDir);
  const { dim } = features;
  // rows in image order 0–7999 (train, then pool) with their labels, for "the first n rows labelled"
  const phi = new Float32Array(8000 * dim);
  phi.set(features.train, 0);
  phi.set(features.pool, features.train.length);
  const labels = mnist.labels.slice(0, 8000);
  const newLabels = 10;
  const rerank = { ...(await interactiveRerankBench(phi, dim, labels, { labelled: 1000, newLabels, poolEnd: 8000, numClasses: 10 })), newLabels, goalSeconds: 2 as const };
  let poolRank: InteractiveBench['poolRank'] = null;
  let poolRankOneCore: PoolRankBench | null = null;
  if (o.poolSize > 0) {
    const all = new Float32Array(10_000 * dim);
    all.set(phi, 0);
    all.set(features.heldOut, phi.length);
    const workers = Math.min(4, os.availableParallelism());
    const r = await poolRankBench(all, dim, labels, { labelled: 1000, poolSize: o.poolSize, numClasses: 10, workers });
    // the CNN trunk of the pool images is the other part of a cold ranking: the worker's features pass over the 1,000 train images, scaled
    poolRank = { ...r, goalSeconds: 10, trunkSecondsEstimate: (features.seconds / (features.train.length / dim)) * o.poolSize, workers };
    if (workers > 1) poolRankOneCore = await poolRankBench(all, dim, labels, { labelled: 1000, poolSize: o.poolSize, numClasses: 10, workers: 1 });
  }
  let memory: MemoryBench | null = null;
  if (o.memoryRounds > 0) {
    const per = mnist.imageSize * mnist.imageSize;
    memory = await memoryRounds(
      {
        rounds: o.memoryRounds,
        epochs: o.memoryEpochs,
        imageSize: mnist.imageSize,
        numClasses: 10,
        trainX: mnist.images.slice(0, 1000 * per),
        trainY: mnist.labels.slice(0, 1000),
        poolX: mnist.images.slice(1000 * per, 8000 * per),
      },
      (r) => o.onMemoryRound?.(r.round),
    );
  }
  return { rerank, poolRank, poolRankOneCore, memory };
}

export function interactiveBenchText(b: InteractiveBench): string[] {
  const r = b.rerank;
  const lines = [
    `interactive re-rank (${r.labelled} labels, ${r.newLabels} of them new; ${r.scored} images rescored, S = 20): ${fixed(r.seconds, 2)} s (fit ${fixed(r.fitSeconds, 2)}, score ${fixed(r.scoreSeconds, 2)}), goal < 2 s; longest main-thread stall ${fixed(r.maxStallMs, 0)} ms`,
  ];
  const p = b.poolRank;
  if (p) {
    lines.push(
      `ranking a ${p.scored.toLocaleString('en')}-image pool (last-layer, S = 20, BALD + sort, ${p.workers} scoring workers): ${fixed(p.rankSeconds, 2)} s (+ head fit ${fixed(p.fitSeconds, 2)} s), goal < 10 s; the CNN features of a new 100k pool would add ≈ ${fixed(p.trunkSecondsEstimate, 0)} s`,
    );
    const one = b.poolRankOneCore;
    if (one) lines.push(`  the same ranking on one core: ${fixed(one.rankSeconds, 2)} s, so the ${p.workers} workers make it ${fixed(one.rankSeconds / p.rankSeconds, 2)}× faster`);
  }
  const m = b.memory;
  if (m) {
    lines.push(
      `memory over ${m.rounds.length} rounds (${m.epochs} epochs + scoring 7,000 each, one worker): RSS MB ${m.rounds.map((x) => fixed(x.rssMb, 0)).join(', ')}; tensors ${m.rounds.map((x) => x.numTensors).join(', ')}`,
      `  → ${m.verdict} (RSS growth from round 3: ${fixed(m.rssGrowthMb, 1)} MB, threshold ${FLAT_RSS_MB} MB; tensor count ${m.tensorsConstant ? 'constant' : 'changing'})`,
    );
  }
  return lines;
}
