/**
 * Method registry and the `createPosterior` factory (laplace-torch's `Laplace(...)` pattern:
 * a thin factory that validates options and dispatches to a subclass).
 *
 * To add a method: extend the `Method` union in types.ts, write a `Posterior` subclass, and add
 * its entry here (the `Record<Method, …>` type makes a missing entry a compile error).
 */
import type { ConvNet } from '../models/convNet.ts';
import { validateNetworkInput } from '../models/galCnn.ts';
import { Posterior } from './base.ts';
import { MapPosterior } from './map.ts';
import { MCDropoutPosterior } from './mcDropout.ts';
import { EnsemblePosterior, validateEnsembleOptions } from './ensemble.ts';
import { IVONPosterior, validateIvonOptions } from './ivon.ts';
import { SGLDPosterior, validateSgldOptions } from './sgld.ts';
import { VIPosterior } from './vi.ts';
import { LaplacePosterior, validateLaplaceOptions } from './laplace.ts';
import { LastLayerPosterior, validateLastLayerOptions } from './lastLayer.ts';
import { DklPosterior, validateDklOptions } from './dkl.ts';
import { LoraEnsemblePosterior, validateLoraOptions } from '../lora/posterior.ts';
import { LoraLaplacePosterior, validateLoraLaplaceOptions } from '../lora/laplace.ts';
import type { HessianStructure, Method, PosteriorOptions, Prior, SerializedPosterior, SubsetOfWeights } from './types.ts';

export interface MethodSpec {
  method: Method;
  description: string;
  /** Allowed values of each option; an empty list means the option must not be given. */
  supports: {
    subsetOfWeights: readonly SubsetOfWeights[];
    hessianStructure: readonly HessianStructure[];
    prior: readonly Prior[];
  };
  /** Method-specific options this method accepts (refused for every other method). */
  options?: readonly (keyof PosteriorOptions)[];
  /** Checks the values of the method-specific options (throws a clear Error). */
  validate?(options: PosteriorOptions): void;
  /** `net` and `from` are given when deserialising (`from` holds method state, e.g. extra arrays). */
  create(options: PosteriorOptions, net?: ConvNet, from?: SerializedPosterior): Posterior;
  /** Rebuilds a serialised posterior whose network is not a Gal CNN (default: loadNetwork + create). */
  deserialize?(s: SerializedPosterior): Promise<Posterior>;
}

export const methodRegistry: Record<Method, MethodSpec> = {
  map: {
    method: 'map',
    description: 'Maximum a posteriori point estimate (deterministic predictive, S = 1).',
    supports: { subsetOfWeights: [], hessianStructure: [], prior: ['gaussian', 'laplace', 'spike-slab'] },
    create: (o, net) => new MapPosterior(o, net),
  },
  'mc-dropout': {
    method: 'mc-dropout',
    description: 'Monte-Carlo dropout (Gal & Ghahramani 2016); trunk once, head T times.',
    supports: { subsetOfWeights: ['all', 'last-layer'], hessianStructure: [], prior: ['gaussian', 'laplace', 'spike-slab'] },
    create: (o, net) => new MCDropoutPosterior(o, net),
  },
  ensemble: {
    method: 'ensemble',
    description: 'Deep ensemble (Lakshminarayanan et al. 2017): K MAP members from different seeds, S = K.',
    supports: { subsetOfWeights: [], hessianStructure: [], prior: ['gaussian', 'laplace', 'spike-slab'] },
    options: ['ensembleSize'],
    validate: validateEnsembleOptions,
    create: (o, net, from) => new EnsemblePosterior(o, net, from),
  },
  vi: {
    method: 'vi',
    description: 'Mean-field VI, Bayes by Backprop (Blundell et al. 2015), on the dense layers; convolutions MAP.',
    supports: { subsetOfWeights: ['all', 'last-layer'], hessianStructure: [], prior: ['gaussian'] },
    create: (o, net, from) => new VIPosterior(o, net, from),
  },
  ivon: {
    method: 'ivon',
    description: 'IVON (Shen et al. 2024): mean-field Gaussian over all weights by variational online Newton.',
    supports: { subsetOfWeights: ['all'], hessianStructure: [], prior: ['gaussian'] },
    options: ['ivonPredict', 'ivonEss', 'ivonHessInit'],
    validate: validateIvonOptions,
    create: (o, net, from) => new IVONPosterior(o, net, from),
  },
  sgld: {
    method: 'sgld',
    description: 'Stochastic gradient Langevin dynamics (Welling & Teh 2011); a bank of weight samples.',
    supports: { subsetOfWeights: ['all', 'last-layer'], hessianStructure: [], prior: ['gaussian', 'laplace'] },
    options: ['sgldSamples', 'sgldBurnIn', 'sgldTemperature'],
    validate: validateSgldOptions,
    create: (o, net, from) => new SGLDPosterior(o, net, from),
  },
  laplace: {
    method: 'laplace',
    description: "Post hoc Laplace on the MAP network (laplace-torch): GGN full/diag/kron, marglik prior precision; 'mc' or GLM 'probit' predictive.",
    supports: { subsetOfWeights: ['last-layer', 'all'], hessianStructure: ['kron', 'diag', 'full'], prior: ['gaussian'] },
    options: ['predictive', 'priorPrecisionMethod'],
    validate: validateLaplaceOptions,
    create: (o, net, from) => new LaplacePosterior(o, net, from),
  },
  'last-layer': {
    method: 'last-layer',
    description: "Bayesian last layer on the 128-d features: softmax regression by Laplace ('logistic') or closed-form BLR ('linear').",
    supports: { subsetOfWeights: [], hessianStructure: ['full', 'kron', 'diag'], prior: ['gaussian'] },
    options: ['predictive', 'lastLayerModel'],
    validate: validateLastLayerOptions,
    create: (o, net, from) => new LastLayerPosterior(o, net, from),
  },
  dkl: {
    method: 'dkl',
    description: 'Deep kernel learning: exact RBF GP heads on the 128-d features (Dirichlet label regression), latent samples → softmax.',
    supports: { subsetOfWeights: [], hessianStructure: [], prior: ['gaussian', 'laplace'] },
    options: ['predictive'],
    validate: validateDklOptions,
    create: (o, net, from) => new DklPosterior(o, net, from),
  },
  'lora-ensemble': {
    method: 'lora-ensemble',
    description: 'LoRA ensemble (Wang et al. 2023): K low-rank adapter sets + heads on an imported frozen TF.js backbone, S = K.',
    supports: { subsetOfWeights: [], hessianStructure: [], prior: ['gaussian'] },
    options: ['backbone', 'loraRank', 'loraAlpha', 'featureLayer', 'ensembleSize'],
    validate: validateLoraOptions,
    create: (o) => new LoraEnsemblePosterior(o),
    deserialize: (s) => LoraEnsemblePosterior.load(s),
  },
  'lora-laplace': {
    method: 'lora-laplace',
    description: "Laplace-LoRA (Yang et al. 2024): MAP adapters + head on an imported frozen backbone, GGN kron/diag Laplace on them, marglik τ; linearised 'mc' or full-network 'nn' samples.",
    supports: { subsetOfWeights: [], hessianStructure: ['kron', 'diag'], prior: ['gaussian'] },
    options: ['backbone', 'loraRank', 'loraAlpha', 'featureLayer', 'predictive'],
    validate: validateLoraLaplaceOptions,
    create: (o) => new LoraLaplacePosterior(o),
    deserialize: (s) => LoraLaplacePosterior.load(s),
  },
};

export const METHODS = Object.keys(methodRegistry) as Method[];

function isMethod(m: unknown): m is Method {
  return typeof m === 'string' && Object.prototype.hasOwnProperty.call(methodRegistry, m);
}

/** Throws a clear Error for unknown methods and for option combinations a method does not support. */
export function validatePosteriorOptions(opts: PosteriorOptions): MethodSpec {
  if (opts === null || typeof opts !== 'object') throw new Error('createPosterior: options object required');
  if (!isMethod(opts.method)) {
    throw new Error(`Unknown method '${String(opts.method)}'. Known methods: ${METHODS.join(', ')}`);
  }
  const spec = methodRegistry[opts.method];
  const m = opts.method;
  const check = <K extends keyof MethodSpec['supports']>(key: K, what: string) => {
    const value = opts[key];
    if (value === undefined) return;
    const allowed = spec.supports[key] as readonly string[];
    if (allowed.length === 0) {
      throw new Error(`${key} is not applicable to method '${m}' (${what}); remove it`);
    }
    if (!allowed.includes(value as string)) {
      throw new Error(`${key} '${String(value)}' is not supported for method '${m}' yet (supported: ${allowed.join(', ')})`);
    }
  };
  check('subsetOfWeights', 'it treats every weight the same way');
  check('hessianStructure', 'only Laplace-type posteriors use a Hessian');
  check('prior', 'priors');
  if (opts.prior === 'spike-slab' && opts.channels < 2) {
    throw new Error(`prior 'spike-slab' selects among the input channels and needs at least 2 (got ${opts.channels}); use gaussian or laplace`);
  }
  if (opts.priorPrecision !== undefined && !(Number.isFinite(opts.priorPrecision) && opts.priorPrecision > 0)) {
    throw new Error(`priorPrecision must be a finite number > 0; got ${opts.priorPrecision}`);
  }
  if (opts.mcSamples !== undefined && !(Number.isInteger(opts.mcSamples) && opts.mcSamples >= 1)) {
    throw new Error(`mcSamples must be a positive integer; got ${opts.mcSamples}`);
  }
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) {
    throw new Error(`seed must be an integer; got ${opts.seed}`);
  }
  // Options that belong to other methods (MethodSpec.options) are refused.
  for (const other of Object.values(methodRegistry)) {
    for (const key of other.options ?? []) {
      if (opts[key] !== undefined && !(spec.options ?? []).includes(key)) {
        throw new Error(`${key} is an option of method '${other.method}', not applicable to method '${m}'; remove it`);
      }
    }
  }
  spec.validate?.(opts);
  if (spec.deserialize && opts.architecture !== undefined) {
    throw new Error(`architecture is not applicable to method '${m}': its network is the imported backbone; remove it`);
  }
  validateNetworkInput({ imageSize: opts.imageSize, channels: opts.channels, numClasses: opts.numClasses }, opts.architecture ?? 'gal-cnn');
  return spec;
}

/** Throws a clear Error when `method` does not take the prior `prior` (checked before starting a training job). */
export function checkPrior(method: Method, prior: Prior | undefined): void {
  if (prior === undefined || !isMethod(method)) return;
  const allowed = methodRegistry[method].supports.prior;
  if (!allowed.includes(prior)) throw new Error(`prior '${prior}' is not supported for method '${method}' (supported: ${allowed.join(', ') || 'none'})`);
}

/** Creates an (unfitted) posterior of `opts.method`, refusing invalid option combinations. */
export function createPosterior(opts: PosteriorOptions): Posterior {
  return validatePosteriorOptions(opts).create(opts);
}

/** Rebuilds a posterior from {@link Posterior.serialize}'s output. */
export async function deserializePosterior(s: SerializedPosterior): Promise<Posterior> {
  const spec = validatePosteriorOptions(s.json.options);
  if (s.json.method !== s.json.options.method) throw new Error('deserialize: method and options.method disagree');
  const p = spec.deserialize ? await spec.deserialize(s) : spec.create(s.json.options, await Posterior.loadNetwork(s), s);
  p.restoreFitReport(s.json.fitReport ?? null);
  return p;
}
