/** z of the central 90% interval of a Gaussian. */
export const Z90 = 1.6448536269514722;

/** The central 90% interval of a Gaussian with this mean and variance (the predictive of a new label). */
export function interval90(score: { mean: number; predictiveVariance: number }): { lower: number; upper: number } {
  const half = Z90 * Math.sqrt(score.predictiveVariance);
  return { lower: score.mean - half, upper: score.mean + half };
}
