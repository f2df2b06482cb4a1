/**
 * Laplace machinery: structured GGN blocks (full / diag / kron), the linear-layer Laplace and GLM
 * predictive, the marginal likelihood and its τ search, probit, Bayesian linear regression, and the
 * whole-network curvature of the Gal CNN. The posteriors using it are in ../posterior/.
 */
export * from './curvature.ts';
export * from './linear.ts';
export * from './marglik.ts';
export * from './predictive.ts';
export * from './blr.ts';
export {
  countParameters,
  KRON_MAX_DIM,
  LOW_RANK_MAX_N,
  networkCurvature,
  networkGlm,
  networkGlmSamples,
  networkLayers,
  type NetworkCurvatureResult,
  type NetworkLayer,
} from './network.ts';
