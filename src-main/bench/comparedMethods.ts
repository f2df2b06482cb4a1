import type { Method } from '../bdl/posterior/types.ts';

/** The methods `compare` runs; apart from methodComparison.ts so the CLI can parse options without loading TF.js. */
export const COMPARED_METHODS = ['map', 'mc-dropout', 'ensemble', 'vi', 'ivon', 'sgld', 'laplace', 'last-layer', 'dkl', 'lora-ensemble', 'lora-laplace'] as const satisfies readonly Method[];
export type ComparedMethod = (typeof COMPARED_METHODS)[number];
