/** Gaussian processes: exact GP regression (RBF), its marginal likelihood, Dirichlet GP classification. */
export { rbfFromSquaredDistances, rbfKernel, squaredDistances, type RbfParams } from './kernels.ts';
export { exactGpFit, exactGpPredict, rbfLogMarginalLikelihood, type ExactGpState, type GpOutputData } from './exact.ts';
export { DEFAULT_GP_BOUNDS, GPRegression, type GPBounds, type GPFitOptions, type GPHyperparameters, type GPPrediction } from './regression.ts';
export { dirichletGpPredict, dirichletTransform, fitDirichletGp, type DirichletGp, type DirichletGpOptions } from './dirichlet.ts';
