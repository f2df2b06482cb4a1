/** What the simulator's main thread sends to a run's worker, and what comes back. */
import type { Architecture } from '../bdl/architectures.ts';
import type { Prior } from '../bdl/posterior/types.ts';
import type { StoppingOptions } from './stopping.ts';
import type { KCenterSpace, RoundRecord, SimAcquisition, SimMethod, WarmStart } from './types.ts';

/** One run: one acquisition function, one seed, every round. */
export interface RunRequest {
  acquisition: SimAcquisition;
  /** Seed index (recorded) and the derived seed of the run (initial set, initialisations, subsets). */
  seedIndex: number;
  runSeed: number;
  method: SimMethod;
  /** LoRA methods: absolute path of the backbone folder. */
  backbone?: string;
  prior: Prior;
  priorPrecision?: number;
  /** Absent for the LoRA methods. */
  architecture?: Architecture;
  imageSize: number;
  channels: 1 | 3;
  numClasses: number;
  /** [P, H, W, C] uint8 and [P] labels: the pool side (the oracle's labels). */
  poolX: Uint8Array;
  poolY: Int32Array;
  /** The held-out set. */
  testX: Uint8Array;
  testY: Int32Array;
  initial: number;
  step: number;
  rounds: number;
  /** Fixed epochs, or null for the app's schedule (defaultEpochs). */
  epochs: number | null;
  batchSize: number;
  learningRate: number;
  weightDecay: number;
  samples: number;
  poolSubset: number | null;
  warmStart: WarmStart | null;
  warmStartRounds: number;
  kcenterSpace: KCenterSpace;
  batchBaldSamples: number;
  powerBeta: number;
  stopping: StoppingOptions;
  /** End the run at the first round whose held-out accuracy reaches this (null: run every round). */
  untilAccuracy: number | null;
}

export type RunProgress =
  | { kind: 'phase'; round: number; phase: 'training' | 'evaluating' | 'acquiring'; fraction: number }
  | { kind: 'round'; record: RoundRecord };

export interface RunResult {
  backend: string;
  records: RoundRecord[];
  seconds: number;
}
