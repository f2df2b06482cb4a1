import fs from 'node:fs';
import path from 'node:path';
import { listImages } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { insertModelVersion, type ModelVersion } from '../db/models.ts';
import type { Project } from '../db/project.ts';
import { replaceRegressionScores } from '../db/regressionScores.ts';
import { stackInputs } from '../import/cache.ts';
import { HYPER_FIT_POINTS, type RegressionPrediction } from '../regression/gpRegressor.ts';
import type { GpPredictRequest, GpPredictResult, GpProgress, GpTrainRequest, GpTrainResult } from './gpProtocol.ts';
import { writeModelDir } from './modelDir.ts';
import { runWorker } from './runWorker.ts';
import { seededShuffle, TrainingError } from './training.ts';

/** The methods of regression projects; classification methods live in src-main/bdl/posterior. */
export const REGRESSION_METHODS = ['gp'] as const;
export type RegressionMethod = (typeof REGRESSION_METHODS)[number];

export interface RegressionTrainOptions {
  seed?: number;
  /** Share of the labelled images kept aside to measure the model; none when fewer than 10 labels. */
  heldOutFraction?: number;
  onProgress?: (progress: GpProgress) => void;
  signal?: AbortSignal;
}

const GP_WORKER = new URL('./gpWorker.ts', import.meta.url);

/**
 * Trains a GP regression model version on the project's current numeric labels in a worker thread,
 * measures it on a held-out fifth when there are ≥ 10 labels, scores the unlabelled pool (mean, latent
 * and predictive variance) and records it all. Weights reach disk before the version row exists.
 */
export async function trainRegression(project: Project, options: RegressionTrainOptions = {}): Promise<ModelVersion> {
  if (project.meta.task !== 'regression') throw new TrainingError('GP regression needs a regression project (its labels are numbers)');
  const images = listImages(project.db);
  const byId = new Map(images.map((image) => [image.id, image]));
  const labels = currentLabels(project.db);
  const labelled = labels.filter((l) => l.kind === 'value').map((l) => ({ sha256: byId.get(l.imageId)!.sha256, value: l.value! }));
  if (labelled.length < 3) throw new TrainingError(`GP regression needs at least 3 images with a value (have ${labelled.length})`);
  const labelledIds = new Set(labels.filter((l) => l.kind === 'value' || l.kind === 'unsure').map((l) => l.imageId));
  const pool = images.filter((image) => !labelledIds.has(image.id));

  const seed = options.seed ?? 0;
  const shuffled = labelled.length >= 10 ? seededShuffle(labelled, seed) : labelled;
  const heldOutCount = labelled.length >= 10 ? Math.max(2, Math.round(labelled.length * (options.heldOutFraction ?? 0.2))) : 0;
  const heldOut = shuffled.slice(0, heldOutCount);
  const train = shuffled.slice(heldOutCount);
  const request: GpTrainRequest = {
    kind: 'train',
    imageSize: project.meta.imageSize,
    channels: project.meta.channels,
    seed,
    trainX: stackInputs(project, train.map((e) => e.sha256)),
    trainY: Float64Array.from(train, (e) => e.value),
    heldOutX: stackInputs(project, heldOut.map((e) => e.sha256)),
    heldOutY: Float64Array.from(heldOut, (e) => e.value),
    poolX: stackInputs(project, pool.map((image) => image.sha256)),
  };
  const result = await runWorker<GpTrainRequest, GpProgress, GpTrainResult>(GP_WORKER, request, {
    onProgress: options.onProgress,
    signal: options.signal,
    transfer: [request.trainX.buffer, request.heldOutX.buffer, request.poolX.buffer] as ArrayBuffer[],
  });

  const weightsFile = writeModelDir(project, { 'gp.json': result.modelJson, 'weights.bin': new Uint8Array(result.weights) });

  const { model } = result;
  // One transaction: a crash cannot leave the newest version without its scores.
  return project.db.transaction(() => {
    const version = insertModelVersion(project.db, {
      method: 'gp',
      hyper: {
        kernel: 'rbf',
        features: `model input average-pooled by ${model.basis.poolFactor}, PCA to ${model.basis.k} components`,
        components: model.basis.k,
        targetMean: model.yMean,
        targetStd: model.yStd,
        // σ_f² and σ_n² are fitted on standardised targets; the noise std is also given in the target's units.
        signalVariance: model.hyper.signalVariance,
        lengthscale: model.hyper.lengthscale,
        noiseVariance: model.hyper.noiseVariance,
        noiseStd: Math.sqrt(model.hyper.noiseVariance) * model.yStd,
        logMarginalLikelihood: model.logMarginalLikelihood,
        hyperFitPoints: Math.min(train.length, HYPER_FIT_POINTS),
        // Above MAX_GP_POINTS training images the GP conditions on a seeded subset of this many.
        gpPoints: model.nTrain,
        seed,
        trainImages: train.length,
        heldOutImages: heldOut.length,
        scoreSeconds: result.scoreSeconds,
      },
      backend: 'cpu (float64)',
      metrics: null,
      regressionMetrics: result.metrics,
      nLabels: labelled.length,
      trainSeconds: result.trainSeconds,
      weightsFile,
    });
    replaceRegressionScores(
      project.db,
      version.id,
      pool.map((image, i) => ({ imageId: image.id, mean: result.pool.mean[i], latentVariance: result.pool.latentVariance[i], predictiveVariance: result.pool.predictiveVariance[i] })),
    );
    return version;
  })();
}

/** Predictions of a stored GP regression version for images [N, H, W, C] uint8, in a worker thread. */
export async function predictRegressionWithVersion(
  project: Project,
  version: ModelVersion,
  x: Uint8Array,
  options: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<RegressionPrediction> {
  if (version.method !== 'gp') throw new TrainingError(`model version ${version.id} is not a GP regression model (${version.method})`);
  const dir = path.join(project.dir, version.weightsFile);
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  const request: GpPredictRequest = {
    kind: 'predict',
    modelJson: fs.readFileSync(path.join(dir, 'gp.json'), 'utf8'),
    weights: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
    x,
  };
  return runWorker<GpPredictRequest, GpProgress, GpPredictResult>(GP_WORKER, request, {
    onProgress: (p) => options.onProgress?.(p.fraction),
    signal: options.signal,
    transfer: [request.weights, x.buffer as ArrayBuffer],
  });
}
