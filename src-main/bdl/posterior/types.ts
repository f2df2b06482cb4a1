/**
 * Option and result types shared by every posterior (laplace-torch naming: priorPrecision,
 * subsetOfWeights, hessianStructure…). Methods are a string union + a registry
 * (`posterior/registry.ts`): adding a method = one union member + one registry entry.
 */

import type { Architecture } from '../architectures.ts';
import type { SpikeSlabReport } from './spikeSlab.ts';

/**
 * Approximate-inference method.
 * - 'map': the point estimate (weight decay = Gaussian prior); predictive is one softmax, S = 1.
 * - 'mc-dropout': Gal & Ghahramani 2016, dropout as variational inference; S = mcSamples passes.
 * - 'ensemble': deep ensembles (Lakshminarayanan et al. 2017), K MAP members; S = K.
 * - 'vi': mean-field VI, Bayes by Backprop (Blundell et al. 2015) on the dense layers; S = mcSamples.
 * - 'ivon': IVON (Shen et al. 2024), mean-field Gaussian over all weights; S = mcSamples or 1 (mean).
 * - 'sgld': stochastic gradient Langevin dynamics (Welling & Teh 2011); S = the bank (sgldSamples).
 * - 'laplace': post hoc Laplace on the MAP network (laplace-torch; GGN full/diag/kron, marglik τ);
 *   S = mcSamples weight samples ('mc') or 1 (GLM 'probit').
 * - 'last-layer': Bayesian last layer on the 128-d features: softmax regression by Laplace
 *   ('logistic') or closed-form Bayesian linear regression of one-hot labels ('linear').
 * - 'dkl': deep kernel learning — exact GP heads (RBF) on the features, Dirichlet label regression.
 * - 'lora-ensemble': K low-rank adapter sets + heads on an imported frozen backbone (../lora/); S = K.
 * - 'lora-laplace': Laplace on the LoRA parameters and head of one adapter set; S = mcSamples.
 * GP regression (../gp/) is not a Method: regression projects use it directly (src-main/regression/).
 */
export type Method = 'map' | 'mc-dropout' | 'ensemble' | 'vi' | 'ivon' | 'sgld' | 'laplace' | 'last-layer' | 'dkl' | 'lora-ensemble' | 'lora-laplace';

/** Which weights are treated as random (the rest are MAP). */
export type SubsetOfWeights = 'all' | 'last-layer';
/** Structure of the (generalised Gauss-Newton) Hessian approximation, for Laplace-type methods. */
export type HessianStructure = 'full' | 'diag' | 'kron';
/**
 * Prior over the weights. 'gaussian' ↔ L2 weight decay, 'laplace' ↔ L1; 'spike-slab': a group
 * spike-and-slab on the input layer's weights, one inclusion probability per input channel
 * (spikeSlab.ts), Gaussian on the other layers.
 */
export type Prior = 'gaussian' | 'laplace' | 'spike-slab';

export interface PosteriorOptions {
  method: Method;
  /** Default 'all' where supported. mc-dropout: 'last-layer' samples only the last dropout. */
  subsetOfWeights?: SubsetOfWeights;
  hessianStructure?: HessianStructure;
  /** Default 'gaussian'. */
  prior?: Prior;
  /**
   * Prior precision τ (inverse variance). When given it sets the penalty of `fit` instead of
   * `FitOptions.weightDecay`: weightDecay = τ / N (gaussian), √(2τ) / N (laplace).
   */
  priorPrecision?: number;
  /**
   * 'laplace': how τ is chosen when `priorPrecision` is not given: 'marglik' (default) maximises the log marginal likelihood; 'cross-validation'
   * minimises the NLL of 2-fold cross-validation (last layer only; about one more MAP training).
   */
  priorPrecisionMethod?: 'marglik' | 'cross-validation';
  /** T, the number of predictive samples (default 20). Ignored by 'map' (S = 1). */
  mcSamples?: number;
  /** Seeds weight initialisation, shuffling and dropout masks (default 42). */
  seed?: number;
  /**
   * The network (architectures.ts). Default 'gal-cnn', the network of posteriors stored before
   * architectures existed; projects choose theirs by image size (defaultArchitecture).
   */
  architecture?: Architecture;
  /** H = W of the input images: 28, 64, 128 or 224 (which of them the architecture takes: architectures.ts). */
  imageSize: number;
  /** 1 (grey) or 3 (RGB). */
  channels: number;
  numClasses: number;
  /**
   * 'laplace', 'last-layer' (logistic), 'dkl': 'mc' (default) = S samples (weights through the
   * linearised network, or latent functions); 'probit' = the deterministic probit approximation of
   * the Gaussian-logit predictive (MacKay 1992), S = 1 — BALD is then 0 for every image: use 'mc'
   * for BALD. 'laplace' only: 'nn' = weight samples through the full non-linear network.
   */
  predictive?: 'mc' | 'probit' | 'nn';
  /**
   * 'last-layer': 'logistic' (default) = Bayesian softmax regression on the features by Laplace;
   * 'linear' = closed-form Bayesian linear regression of one-hot labels (Bishop §3.3).
   */
  lastLayerModel?: 'linear' | 'logistic';
  /** 'ensemble': K, the number of members (default 5); the predictive has S = K. */
  ensembleSize?: number;
  /** 'ivon': predict at the mean m ('mean', S = 1, "IVON@mean") or with S weight samples ('samples', default). */
  ivonPredict?: 'mean' | 'samples';
  /** 'ivon': λ, the effective sample size (default N, the number of training examples). */
  ivonEss?: number;
  /** 'ivon': h₀, the initial Hessian (default max(0.1, 2500/λ), i.e. initial σ = 1/√(λ(h₀ + δ)) ≤ 0.02). */
  ivonHessInit?: number;
  /** 'sgld': S, the number of samples kept in the bank and used to predict (default 20). */
  sgldSamples?: number;
  /** 'sgld': fraction of the fit's steps used as burn-in, in [0, 1) (default 0.5). */
  sgldBurnIn?: number;
  /** 'sgld': temperature T of the injected noise N(0, h·T) (default 1 = the posterior; < 1 = cold). */
  sgldTemperature?: number;
  /**
   * 'lora-ensemble', 'lora-laplace' (required there): the folder of a TF.js LayersModel (model.json
   * + weight files) or its model.json, the frozen backbone (../lora/network.ts).
   */
  backbone?: string;
  /** LoRA: r, the rank of the adapters (default 4). */
  loraRank?: number;
  /** LoRA: α, the adapter update is scaled by α / r (default α = r). */
  loraAlpha?: number;
  /** LoRA: the backbone layer whose output are the features (default: before its class layer). */
  featureLayer?: string;
}

export interface FitProgress {
  /** 1-based epoch and batch of the step just taken. */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Training loss of that batch (mean NLL + penalty). */
  loss: number;
  /** Fraction of all steps done, in (0, 1]. */
  fraction: number;
}

export interface FitOptions {
  /** Default 20. */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Adam learning rate, default 1e-3. */
  learningRate?: number;
  /**
   * Default 1e-4. L2 as in torch.optim.Adam(weight_decay): adds weightDecay·w to every gradient,
   * i.e. loss += weightDecay/2 · Σ w² over all weights and biases. With prior 'laplace' the
   * penalty is weightDecay · Σ |w| instead. Overridden by PosteriorOptions.priorPrecision.
   */
  weightDecay?: number;
  /** Shuffling / dropout seed for this fit (default: the posterior's seed). */
  seed?: number;
  onProgress?(p: FitProgress): void;
  /** Checked before every batch; when it returns true, fit throws a {@link CancelledError}. */
  shouldStop?(): boolean;
}

export interface FitReport {
  method: Method;
  backend: string;
  examples: number;
  epochs: number;
  batchSize: number;
  /** Batches per epoch. */
  batches: number;
  learningRate: number;
  /** Effective penalty coefficient and kind. */
  weightDecay: number;
  penalty: 'l2' | 'l1' | 'spike-slab';
  /** Prior 'spike-slab': the posterior inclusion probabilities of the input units after the fit. */
  inclusion?: SpikeSlabReport;
  /** Mean training loss of each epoch. */
  lossHistory: number[];
  finalLoss: number;
  seconds: number;
}

export interface PredictProgress {
  done: number;
  total: number;
  fraction: number;
}

export interface PredictOptions {
  /** S; default PosteriorOptions.mcSamples (20) for stochastic methods, 1 for 'map'. */
  samples?: number;
  /** Images per batch through the trunk, default 64. */
  batchSize?: number;
  /** Seed of the predictive's randomness (default: the posterior's seed). */
  seed?: number;
  /**
   * Consistent masks (default false): sample s uses the same weights ω_s (dropout masks) for every
   * image of the call, whatever the batching, so [S, N, C] are S joint draws over the N images — what
   * BatchBALD's joint entropies need. Default: independent masks for every (sample, image).
   */
  consistentMasks?: boolean;
  /**
   * Also return the penultimate features (dropout off) computed on the way, for the features cache
   * of the interactive re-rank. Methods whose whole network runs per sample (no shared trunk)
   * leave `features` undefined; the caller then uses `Posterior.features`.
   */
  withFeatures?: boolean;
  onProgress?(p: PredictProgress): void;
  shouldStop?(): boolean;
}

/** Samples from the predictive: probabilities [S, N, C] (row-major) — p_s(y = c | x_n). */
export interface PredictiveSamples {
  probs: Float32Array;
  shape: [samples: number, n: number, classes: number];
  /** Penultimate features [N, D] (row-major), when asked with `withFeatures` and available. */
  features?: Float32Array;
}

/** Plain-JSON part of a serialised posterior (everything but the weight bytes). */
export interface SerializedPosteriorJson {
  format: 'episteme-bdl-posterior';
  version: 1;
  method: Method;
  options: PosteriorOptions;
  /** tf.LayersModel topology (Keras JSON). */
  modelTopology: object;
  weightSpecs: { name: string; shape: number[]; dtype: string }[];
  fitReport: FitReport | null;
  /** Method-specific state (e.g. a Laplace posterior precision), JSON-able. */
  state?: Record<string, unknown>;
}

/** A posterior as plain JSON + one ArrayBuffer of weights (transferable between threads). */
export interface SerializedPosterior {
  json: SerializedPosteriorJson;
  weights: ArrayBuffer;
}

/** Thrown by fit / predictiveSamples when `shouldStop()` returned true. */
export class CancelledError extends Error {
  constructor(message = 'Cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}
