export type { Acquisition, Direction } from './base.ts';
export { dims, meanProbs, rank, topK, selectBatch } from './base.ts';
export {
  acquisitionFunctions,
  ACQUISITION_NAMES,
  bald,
  baldScores,
  entropy,
  entropyScores,
  getAcquisition,
  margin,
  marginScores,
  meanStd,
  meanStdScores,
  random,
  randomAcquisition,
  varRatios,
  varRatiosScores,
  type AcquisitionName,
} from './functions.ts';
export { powerAcquisition, tempered, weighted } from './combinators.ts';
export { quantileSorted, uncertaintyDecomposition, type UncertaintyDecomposition } from './decomposition.ts';
export { batchBald, jointMutualInformation, type BatchBaldOptions, type BatchBaldResult } from './batchBald.ts';
