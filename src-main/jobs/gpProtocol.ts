/** What the main thread sends to the GP regression worker and what comes back. */
import type { RegressionMetrics } from '../db/models.ts';
import type { GpRegressorJson, RegressionPrediction } from '../regression/gpRegressor.ts';

export interface GpTrainRequest {
  kind: 'train';
  imageSize: number;
  channels: 1 | 3;
  seed: number;
  /** [N, H, W, C] uint8 and the labels [N]. */
  trainX: Uint8Array;
  trainY: Float64Array;
  heldOutX: Uint8Array;
  heldOutY: Float64Array;
  /** [M, H, W, C] uint8, the unlabelled pool to score. */
  poolX: Uint8Array;
}

export interface GpPredictRequest {
  kind: 'predict';
  modelJson: string;
  weights: ArrayBuffer;
  /** [N, H, W, C] uint8 */
  x: Uint8Array;
}

export interface GpProgress {
  phase: 'training' | 'scoring';
  fraction: number;
}

export interface GpTrainResult {
  modelJson: string;
  model: GpRegressorJson;
  weights: ArrayBuffer;
  metrics: RegressionMetrics | null;
  trainSeconds: number;
  scoreSeconds: number;
  pool: RegressionPrediction;
}

export type GpPredictResult = RegressionPrediction;
