export { Posterior } from './base.ts';
export { MapPosterior } from './map.ts';
export { MCDropoutPosterior } from './mcDropout.ts';
export { createPosterior, deserializePosterior, methodRegistry, METHODS, validatePosteriorOptions, type MethodSpec } from './registry.ts';
export * from './types.ts';
