/** Options, per-round records and summaries of the active-learning simulator. */
import type { Architecture } from '../bdl/architectures.ts';
import type { Method, Prior } from '../bdl/posterior/types.ts';
import { METHOD_NAMES, SimulateAcquisitionName } from '../service/contract.ts';
import type { StoppingOptions } from './stopping.ts';

/** The acquisition functions the simulator compares (the contract's list, so the app job and the CLI agree). */
export const SIMULATE_ACQUISITIONS = SimulateAcquisitionName.options;
export type SimAcquisition = (typeof SIMULATE_ACQUISITIONS)[number];
/** Gal et al. 2017's five + margin + BatchBALD (the CLI's default comparison). */
export const DEFAULT_SIM_ACQUISITIONS: readonly SimAcquisition[] = ['bald', 'batchbald', 'entropy', 'var-ratios', 'mean-std', 'margin', 'random'];
/** Every posterior method of the library (created with createPosterior in the worker). */
export const SIM_METHODS: readonly Method[] = METHOD_NAMES;
export type SimMethod = Method;
export type WarmStart = 'random' | 'kcenter';
export type KCenterSpace = 'features' | 'pixels';

export interface SimulateOptions {
  /** An MNIST idx folder (`*-images-idx3-ubyte[.gz]` + labels) or an image folder with labels.csv (path,label), or that CSV. */
  dataset: string;
  /** Image folders: the held-out set as a CSV (path,label) instead of a fixed seeded 80/20 split. */
  testCsv?: string;
  /** Image folders: model input size (28, 64, 128, 224; default 28) and channels (default 1). */
  imageSize?: number;
  channels?: 1 | 3;
  /** The network (default: gal-cnn at 28 px, resnet from 64 px up); not for the LoRA methods. */
  architecture?: Architecture;
  acquisitions?: readonly SimAcquisition[];
  /** Default 'mc-dropout'. */
  method?: SimMethod;
  /** Class-balanced random initial set, default 20. */
  initial?: number;
  /** Images acquired per round, default 10. */
  step?: number;
  /** Acquisition rounds, default 100 (round 0 is the model on the initial set: rounds + 1 models per run). */
  rounds?: number;
  /** Repetitions with different initial sets and initialisations, default 3. */
  seeds?: number;
  /** Base seed (default 0); run k uses deriveSeed(seed, k). */
  seed?: number;
  /**
   * Epochs per (re)training. Default: the app's schedule (`defaultEpochs`: 20 epochs but at least
   * ~250 gradient steps, at most 200 epochs), so the benchmark measures what the app trains.
   */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Posterior samples T for scoring and evaluation (default 20, the app's). */
  samples?: number;
  /** Subsample of the pool side used at all (default: all of it, 8,000 for MNIST); fixed across runs. */
  poolSize?: number;
  /** Score only a random subset of this many unlabelled images per round (Gal et al.: 2,000). Default all. */
  poolSubset?: number;
  /** Subsample of the held-out set (default: all, 2,000 for MNIST); fixed across runs. */
  testSize?: number;
  /** The first `warmStartRounds` rounds acquire at random or by k-centre greedy instead of by the acquisition. */
  warmStart?: WarmStart;
  /** Default 2 when warmStart is given. */
  warmStartRounds?: number;
  /** k-centre space: the network's penultimate features (default) or raw pixels. */
  kcenterSpace?: KCenterSpace;
  /** BatchBALD's sampled configurations M (default 1,000). */
  batchBaldSamples?: number;
  /** Power-BALD's β (default 1). */
  powerBeta?: number;
  stopping?: StoppingOptions;
  /**
   * End each run at the first round whose held-out accuracy reaches this (e.g. 0.95): the labels-to-target
   * numbers are the same as a full run's, for a fraction of the time; later rounds are not measured.
   */
  untilAccuracy?: number;
  /** 'lora-ensemble', 'lora-laplace' (required there): the TF.js LayersModel folder or model.json of the backbone. */
  backbone?: string;
  /** Weight prior (default gaussian); refused when the method does not support it. */
  prior?: Prior;
  /** Prior precision τ: weight decay τ/N instead of 1e-4. */
  priorPrecision?: number;
}

export interface RoundRecord {
  acquisition: SimAcquisition;
  /** Seed index 0..seeds−1. */
  seed: number;
  /** 0 = the initial set. */
  round: number;
  /** Labelled images the model of this round was trained on. */
  labels: number;
  accuracy: number;
  nll: number;
  ece: number;
  brier: number;
  /** How the newest batch was chosen: 'initial', the acquisition, or 'warm-start:random' / 'warm-start:kcenter'. */
  selectedBy: string;
  epochs: number;
  trainSeconds: number;
  /** Seconds to score the pool and pick the next batch with this round's model (0 in the last round). */
  acquireSeconds: number;
  /** Wall-clock seconds of the whole round (training, evaluation, acquisition). */
  roundSeconds: number;
  /** Stopping signal of this round's model against the previous round's (see stopping.ts). */
  agreement: number | null;
  /** Null in the last round (the pool is not scored) and for point estimates. */
  maxEpistemic: number | null;
  stop: boolean;
}

export interface Quartiles {
  median: number | null;
  q1: number | null;
  q3: number | null;
}

export interface AcquisitionSummary {
  acquisition: SimAcquisition;
  /** Seeds with at least one round. */
  seeds: number;
  /** Labels at the first round with accuracy ≥ 0.90 / 0.95: quartiles over seeds (an unreached seed counts as ∞; null when the quantile is ∞), and per seed. */
  labelsTo90: Quartiles & { perSeed: (number | null)[] };
  labelsTo95: Quartiles & { perSeed: (number | null)[] };
  /** Accuracy of the last round of each seed. */
  finalAccuracy: Quartiles;
  /** Held-out accuracy per round: quartiles over seeds. */
  curve: { round: number; labels: number; median: number; q1: number; q3: number; seeds: number }[];
  /** Labels at which the stopping signal first fired, per seed (null: never). */
  firstStopLabels: (number | null)[];
  /** Mean wall-clock seconds per round (training, evaluation, scoring and selection). */
  secondsPerRound: number;
}

export interface SimulationSummary {
  dataset: { path: string; kind: 'mnist' | 'folder'; classes: string[]; imageSize: number; channels: number; pool: number; test: number; failed: number };
  /** The options as run, defaults filled in. */
  options: Omit<Required<SimulateOptions>, 'testCsv' | 'warmStart' | 'poolSubset' | 'epochs' | 'stopping' | 'backbone' | 'priorPrecision' | 'untilAccuracy' | 'architecture'> & {
    /** null for the LoRA methods (their network is the backbone). */
    architecture: Architecture | null;
    testCsv: string | null;
    priorPrecision: number | null;
    backbone: string | null;
    warmStart: WarmStart | null;
    poolSubset: number | null;
    epochs: number | 'auto';
    stopping: StoppingOptions;
    untilAccuracy: number | null;
  };
  backend: string | null;
  acquisitions: AcquisitionSummary[];
  /** Wall-clock seconds of the whole simulation so far. */
  seconds: number;
  /** Whether every planned run finished. */
  complete: boolean;
}

export interface SimulationResult {
  summary: SimulationSummary;
  rounds: RoundRecord[];
}

export interface SimulateProgress {
  /** Of the whole simulation, in [0, 1]. */
  fraction: number;
  acquisition: SimAcquisition;
  seed: number;
  round: number;
  rounds: number;
  message: string;
  /** Set when a round has just finished. */
  record?: RoundRecord;
}
