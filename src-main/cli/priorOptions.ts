/** `--prior` and `--prior-precision`, shared by train and simulate. */
import { InvalidArgumentError } from 'commander';
import { PRIOR_NAMES } from '../service/contract.ts';

export type PriorName = (typeof PRIOR_NAMES)[number];

export const PRIOR_HELP = `weight prior: ${PRIOR_NAMES.join(' | ')} (default gaussian; spike-slab = spike-and-slab on the input layer, methods map, mc-dropout, ensemble)`;
export const PRIOR_PRECISION_HELP = 'prior precision τ: weight decay τ/N instead of 1e-4';

export function parsePrior(value: string): PriorName {
  if (!(PRIOR_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${PRIOR_NAMES.join(', ')}`);
  return value as PriorName;
}

export function parsePriorPrecision(value: string): number {
  const n = Number(value);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
}
