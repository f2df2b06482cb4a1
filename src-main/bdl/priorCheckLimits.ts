/** Upper bounds of the prior predictive check's options; apart from priorPredictive.ts so the CLI can parse options without loading TF.js. */
export const PRIOR_CHECK_LIMITS = { samples: 10_000, width: 1000, depth: 8, sigma: 100, grid: 10_000 } as const;
