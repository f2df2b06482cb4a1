/** What the main thread sends to the training worker and what comes back. */
import type { SpikeSlabReport } from '../bdl/posterior/spikeSlab.ts';
import type { Architecture } from '../bdl/architectures.ts';
import type { Method, Prior } from '../bdl/posterior/types.ts';

export interface TrainRequest {
  method: Method;
  /** Absent for the LoRA methods (their network is the backbone). */
  architecture?: Architecture;
  imageSize: number;
  channels: 1 | 3;
  numClasses: number;
  epochs: number;
  batchSize: number;
  /** Adam's learning rate; undefined lets methods with their own optimiser (IVON, SGLD) use theirs. */
  learningRate: number | undefined;
  weightDecay: number;
  mcSamples: number;
  seed: number;
  /** 'lora-ensemble', 'lora-laplace': absolute path of the TF.js LayersModel folder (or model.json). */
  backbone?: string;
  /** Weight prior (the library's default is gaussian) and its precision τ (weightDecay = τ/N instead). */
  prior?: Prior;
  priorPrecision?: number;
  /** [N, H, W, C] uint8 */
  trainX: Uint8Array;
  trainY: Int32Array;
  heldOutX: Uint8Array;
  heldOutY: Int32Array;
  /** [M, H, W, C] uint8, the unlabelled pool to score. */
  poolX: Uint8Array;
}

export interface TrainProgress {
  phase: 'training' | 'scoring';
  fraction: number;
  epoch?: number;
  epochs?: number;
  loss?: number;
}

/** Per-pool-image scores, packed: arrays of length M, or M × C for the probabilities. */
export interface PoolScores {
  predicted: Int32Array;
  probsMean: Float32Array;
  probsLower: Float32Array;
  probsUpper: Float32Array;
  epistemic: Float32Array;
  aleatoric: Float32Array;
  entropy: Float32Array;
  margin: Float32Array;
  varRatios: Float32Array;
  meanStd: Float32Array;
}

export interface TrainResult {
  backend: string;
  /** What ran, for people: threads, native kernels (see describeBackend). */
  backendDetail: string;
  /** posterior.json content and the weights it refers to. */
  posteriorJson: string;
  weights: ArrayBuffer;
  metrics: import('../db/models.ts').Metrics | null;
  trainSeconds: number;
  scoreSeconds: number;
  scores: PoolScores;
  /** Prior 'spike-slab': the inclusion probabilities of the input units after the fit. */
  inclusion?: SpikeSlabReport;
  /**
   * Penultimate features [rows, dim] of the train, held-out and pool images, in request order, for
   * the interactive re-rank's cache; `seconds` is the extra time spent on them beyond scoring.
   */
  features: { dim: number; train: Float32Array; heldOut: Float32Array; pool: Float32Array; seconds: number };
}

export interface PredictRequest {
  posteriorJson: string;
  weights: ArrayBuffer;
  /** [N, H, W, C] uint8 */
  x: Uint8Array;
  samples?: number;
}

export interface PredictResult {
  backend: string;
  /** [S, N, C] */
  probs: Float32Array;
  shape: [number, number, number];
}
