/**
 * The active-learning benchmark (library; the CLI is cli/simulateCommand.ts, the app job is in
 * service/app.ts):
 *
 *   const result = await simulate({ dataset, acquisitions: ['bald', 'random'], rounds: 10 }, { onProgress, signal });
 *   writeSimulationOutputs(outDir, result);   // rounds.csv, summary.json, learning-curve.svg
 */
export { simulate, resolveOptions, type SimulateControl } from './simulate.ts';
export { writeSimulationOutputs, roundsCsv, ROUND_COLUMNS } from './report.ts';
export { learningCurveSvg, niceTicks } from './svg.ts';
export { summariseAcquisition, labelsToReach, quantile, quartiles } from './summary.ts';
export { stoppingSignal, snapshotFromScores, STOPPING_DEFAULTS, type ModelSnapshot, type StoppingOptions, type StoppingSignal } from './stopping.ts';
export { balancedInitial, kCenterGreedy, pixelFeatures } from './coldStart.ts';
export { loadDataset, type SimDataset } from './dataset.ts';
export * from './types.ts';
