/**
 * "Memory flat across consecutive rounds": RSS and tfjs's live tensors after each of N rounds run
 * in one worker (memoryWorker.ts). Verdict "flat" when the live tensor count does not change from
 * round 3 on and RSS grows by less than FLAT_RSS_MB from round 3 to the last. Rounds 1–2 are
 * excluded because the wasm heap and V8 grow to their working size there. The threshold: one round
 * of the standard split holds ≥ 10 MB of per-round arrays (probabilities [20, 7000, 10] float32 =
 * 5.6 MB, features 3.6 MB, weights 2 MB), so a leak of any of them over 8 rounds exceeds 32 MB,
 * while allocator noise stays at a few MB.
 */
import { runWorker } from '../jobs/runWorker.ts';

export const FLAT_RSS_MB = 32;

export interface MemoryRequest {
  rounds: number;
  epochs: number;
  imageSize: number;
  numClasses: number;
  trainX: Uint8Array;
  trainY: Int32Array;
  poolX: Uint8Array;
}

export interface MemoryRound {
  round: number;
  seconds: number;
  rssMb: number;
  numTensors: number;
  tensorMb: number;
}

export interface MemoryBench {
  rounds: MemoryRound[];
  epochs: number;
  /** RSS of the last round minus round 3 (or the first, with fewer rounds). */
  rssGrowthMb: number;
  tensorsConstant: boolean;
  verdict: 'flat' | 'growing';
}

export async function memoryRounds(request: MemoryRequest, onRound?: (r: MemoryRound) => void): Promise<MemoryBench> {
  if (!(Number.isInteger(request.rounds) && request.rounds >= 1)) throw new Error(`rounds must be a positive integer, got ${request.rounds}`);
  const rounds = await runWorker<MemoryRequest, MemoryRound, MemoryRound[]>(new URL('./memoryWorker.ts', import.meta.url), request, { onProgress: onRound });
  const steady = rounds.slice(Math.min(2, rounds.length - 1));
  const rssGrowthMb = steady.at(-1)!.rssMb - steady[0].rssMb;
  const tensorsConstant = steady.every((r) => r.numTensors === steady[0].numTensors);
  return { rounds, epochs: request.epochs, rssGrowthMb, tensorsConstant, verdict: tensorsConstant && rssGrowthMb < FLAT_RSS_MB ? 'flat' : 'growing' };
}
