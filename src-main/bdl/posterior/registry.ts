/**
 * Method registry and the `createPosterior` factory (laplace-torch's `Laplace(...)` pattern:
 * a thin factory that validates options and dispatches to a subclass).
 *
 * To add a method: extend the `Method` union in types.ts, write a `Posterior` subclass, and add
 * its entry here (the `Record<Method, …>` type makes a missing entry a compile error).
 */
import type { GalCnn } from '../models/galCnn.ts';
import { validateGalCnnConfig } from '../models/galCnn.ts';
import { Posterior } from './base.ts';
import { MapPosterior } from './map.ts';
import { MCDropoutPosterior } from './mcDropout.ts';
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
  create(options: PosteriorOptions, net?: GalCnn): Posterior;
}

export const methodRegistry: Record<Method, MethodSpec> = {
  map: {
    method: 'map',
    description: 'Maximum a posteriori point estimate (deterministic predictive, S = 1).',
    supports: { subsetOfWeights: [], hessianStructure: [], prior: ['gaussian', 'laplace'] },
    create: (o, net) => new MapPosterior(o, net),
  },
  'mc-dropout': {
    method: 'mc-dropout',
    description: 'Monte-Carlo dropout (Gal & Ghahramani 2016); trunk once, head T times.',
    supports: { subsetOfWeights: ['all', 'last-layer'], hessianStructure: [], prior: ['gaussian', 'laplace'] },
    create: (o, net) => new MCDropoutPosterior(o, net),
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
  if (opts.priorPrecision !== undefined && !(Number.isFinite(opts.priorPrecision) && opts.priorPrecision > 0)) {
    throw new Error(`priorPrecision must be a finite number > 0; got ${opts.priorPrecision}`);
  }
  if (opts.mcSamples !== undefined && !(Number.isInteger(opts.mcSamples) && opts.mcSamples >= 1)) {
    throw new Error(`mcSamples must be a positive integer; got ${opts.mcSamples}`);
  }
  if (opts.seed !== undefined && !Number.isInteger(opts.seed)) {
    throw new Error(`seed must be an integer; got ${opts.seed}`);
  }
  validateGalCnnConfig({ imageSize: opts.imageSize, channels: opts.channels, numClasses: opts.numClasses });
  return spec;
}

/** Creates an (unfitted) posterior of `opts.method`, refusing invalid option combinations. */
export function createPosterior(opts: PosteriorOptions): Posterior {
  return validatePosteriorOptions(opts).create(opts);
}

/** Rebuilds a posterior from {@link Posterior.serialize}'s output. */
export async function deserializePosterior(s: SerializedPosterior): Promise<Posterior> {
  const spec = validatePosteriorOptions(s.json.options);
  if (s.json.method !== s.json.options.method) throw new Error('deserialize: method and options.method disagree');
  const net = await Posterior.loadNetwork(s);
  const p = spec.create(s.json.options, net);
  p.restoreFitReport(s.json.fitReport ?? null);
  return p;
}
