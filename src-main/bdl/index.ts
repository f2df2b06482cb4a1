/**
 * Episteme BDL library — public surface.
 *
 *   await initBackend();                              // tensorflow > wasm > cpu
 *   const post = createPosterior({ method: 'mc-dropout', imageSize: 28, channels: 1, numClasses: 10 });
 *   await post.fit(x, y, { epochs: 20 });             // x: Uint8Array [N,H,W,C], y: Int32Array [N]
 *   const p = await post.predictiveSamples(pool);     // probs [S,N,C]
 *   const order = rank(bald.score(p), bald.direction);
 */
export { BACKEND_NAMES, backendInfo, describeBackend, initBackend, type BackendInfo, type BackendName } from './backend.ts';
export { nativeInfo, nativeKernels, type NativeInfo, type NativeKernels } from './native/index.ts';
export * from './posterior/index.ts';
export * from './acquisition/index.ts';
export * as gp from './gp/index.ts';
export * as laplace from './laplace/index.ts';
export { ECE_BINS, evaluate, type Evaluation, type ReliabilityBin } from './metrics.ts';
export { buildGalCnn, GAL_CNN_LAYERS, type GalCnnConfig } from './models/galCnn.ts';
export { buildNetwork, ConvNet, RESNET_LAYERS, type DropoutMode, type HeadOptions, type NetworkConfig } from './models/convNet.ts';
export { buildResNet, groupNorm, ResidualTrunk, residualTrunkWith } from './models/resnet.ts';
export * from './architectures.ts';
export { MCDropout, dropoutMask, type MCDropoutKwargs } from './models/mcDropout.ts';
export { registerWasmTrainingKernels, WASM_EXTRA_KERNELS } from './kernels/index.ts';
export { parseIdxImages, parseIdxLabels, readMnist, sliceMnist, type MnistSet } from './data/mnist.ts';
export { DEFAULT_SEED, deriveSeed, mulberry32, permutation } from './util/random.ts';
