/** The per-image scores stored for a model version, from predictive samples [S, N, C]. */
// The acquisition modules directly, not bdl/index.ts: the re-rank's scoring workers must start without loading tfjs.
import { uncertaintyDecomposition } from '../bdl/acquisition/decomposition.ts';
import { acquisitionFunctions } from '../bdl/acquisition/functions.ts';
import type { PredictiveSamples } from '../bdl/posterior/types.ts';
import type { ImageScore } from '../db/models.ts';
import type { PoolScores } from './trainProtocol.ts';

export function poolScores(samples: PredictiveSamples, numClasses: number): PoolScores {
  const decomposition = uncertaintyDecomposition(samples);
  const n = decomposition.epistemic.length;
  const predicted = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (decomposition.mean[i * numClasses + c] > decomposition.mean[i * numClasses + best]) best = c;
    predicted[i] = best;
  }
  return {
    predicted,
    probsMean: decomposition.mean,
    probsLower: decomposition.lower,
    probsUpper: decomposition.upper,
    epistemic: decomposition.epistemic,
    aleatoric: decomposition.aleatoric,
    entropy: acquisitionFunctions.entropy.score(samples),
    margin: acquisitionFunctions.margin.score(samples),
    varRatios: acquisitionFunctions['var-ratios'].score(samples),
    meanStd: acquisitionFunctions['mean-std'].score(samples),
  };
}

export function emptyScores(): PoolScores {
  const f = () => new Float32Array(0);
  return { predicted: new Int32Array(0), probsMean: f(), probsLower: f(), probsUpper: f(), epistemic: f(), aleatoric: f(), entropy: f(), margin: f(), varRatios: f(), meanStd: f() };
}

/** One row per image, as stored in the scores table. */
export function unpackScores(imageIds: number[], scores: PoolScores, numClasses: number): ImageScore[] {
  const slice = (a: Float32Array, i: number) => a.slice(i * numClasses, (i + 1) * numClasses);
  return imageIds.map((imageId, i) => ({
    imageId,
    predicted: scores.predicted[i],
    probsMean: slice(scores.probsMean, i),
    probsLower: slice(scores.probsLower, i),
    probsUpper: slice(scores.probsUpper, i),
    epistemic: scores.epistemic[i],
    aleatoric: scores.aleatoric[i],
    entropy: scores.entropy[i],
    margin: scores.margin[i],
    varRatios: scores.varRatios[i],
    meanStd: scores.meanStd[i],
  }));
}
