import path from 'node:path';
import { validateArchitecture, type Architecture } from '../bdl/architectures.ts';
import { listImages } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { insertModelVersion, replaceScores, type ModelVersion } from '../db/models.ts';
import { unpackScores } from './poolScores.ts';
import type { Project } from '../db/project.ts';
import { stackInputs } from '../import/cache.ts';
import { cacheTrainingFeatures } from '../ranking/featureCache.ts';
import { checkBackbone } from '../bdl/lora/network.ts';
import { checkPrior } from '../bdl/posterior/registry.ts';
import type { Prior } from '../bdl/posterior/types.ts';
import { REGRESSION_METHODS, trainRegression, type RegressionMethod } from './regressionTraining.ts';
import { writeModelDir } from './modelDir.ts';
import { runWorker } from './runWorker.ts';
import type { TrainProgress, TrainRequest, TrainResult } from './trainProtocol.ts';

export interface TrainOptions {
  /** A classification method, or 'gp' for regression projects (the default there). */
  method?: TrainRequest['method'] | RegressionMethod;
  epochs?: number;
  seed?: number;
  batchSize?: number;
  mcSamples?: number;
  /** 'lora-ensemble', 'lora-laplace' (required there, refused otherwise): a TF.js LayersModel folder or model.json. */
  backbone?: string;
  /** Weight prior; refused (TrainingError) when the method does not support it. */
  prior?: Prior;
  /** The network of this version (default the project's); not for the LoRA methods, whose network is the backbone. */
  architecture?: Architecture;
  /** Prior precision τ: weight decay τ/N instead of 1e-4. */
  priorPrecision?: number;
  /** Share of the labelled images kept aside to measure the model; none when fewer than 10 labels. */
  heldOutFraction?: number;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
}

export class TrainingError extends Error {}

/**
 * 20 epochs (Gal et al.'s schedule) but at least about 250 gradient steps: with a few dozen labels an
 * epoch is a single batch, and 20 steps leave the network barely trained.
 */
export function defaultEpochs(trainImages: number, batchSize: number): number {
  const batchesPerEpoch = Math.max(1, Math.ceil(trainImages / batchSize));
  return Math.min(200, Math.max(20, Math.ceil(250 / batchesPerEpoch)));
}

/** Seeded Fisher–Yates (mulberry32), so the held-out split is reproducible for a seed. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shuffled = [...items];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled;
}

interface Example {
  sha256: string;
  classIdx: number;
}

function splitHeldOut(examples: Example[], fraction: number, seed: number): { train: Example[]; heldOut: Example[] } {
  if (examples.length < 10) return { train: examples, heldOut: [] };
  const shuffled = seededShuffle(examples, seed);
  const heldOutCount = Math.max(2, Math.round(examples.length * fraction));
  return { heldOut: shuffled.slice(0, heldOutCount), train: shuffled.slice(heldOutCount) };
}

/** The absolute backbone path for a LoRA method (checked against the project's images), or undefined. */
function checkedBackbone(method: TrainRequest['method'], backbone: string | undefined, project: Project): string | undefined {
  const lora = method === 'lora-ensemble' || method === 'lora-laplace';
  if (!lora) {
    if (backbone !== undefined) throw new TrainingError(`a backbone is only used by the methods lora-ensemble and lora-laplace, not ${method}`);
    return undefined;
  }
  if (backbone === undefined) throw new TrainingError(`${method} needs a backbone: the folder of a TF.js LayersModel (model.json + weight files)`);
  const absolute = path.resolve(backbone);
  try {
    checkBackbone(absolute, [project.meta.imageSize, project.meta.imageSize, project.meta.channels]);
  } catch (e) {
    throw new TrainingError(e instanceof Error ? e.message : String(e));
  }
  return absolute;
}

/** The version's architecture (default the project's), refused as a TrainingError when it does not fit the images. */
function checkedTrainArchitecture(project: Project, architecture: Architecture | undefined): Architecture {
  try {
    return validateArchitecture(architecture ?? project.meta.architecture, project.meta.imageSize, project.meta.channels);
  } catch (error) {
    throw new TrainingError((error as Error).message);
  }
}

/** Refuses a prior the method does not take, or a prior precision that is not a number > 0, as a TrainingError. */
export function checkTrainPrior(method: TrainRequest['method'], prior: Prior | undefined, priorPrecision: number | undefined): void {
  try {
    checkPrior(method, prior);
  } catch (e) {
    throw new TrainingError(e instanceof Error ? e.message : String(e));
  }
  if (priorPrecision !== undefined && !(Number.isFinite(priorPrecision) && priorPrecision > 0)) throw new TrainingError(`the prior precision must be a number > 0, got ${priorPrecision}`);
}

/**
 * Refuses, as a TrainingError, options that do not fit the project's task: a classification method or
 * any network-training option (epochs, batch size, samples, prior, backbone, architecture) on a regression project,
 * the regression method on a classification project.
 */
export function checkTrainTask(project: Project, options: Pick<TrainOptions, 'method' | 'epochs' | 'batchSize' | 'mcSamples' | 'prior' | 'priorPrecision' | 'backbone' | 'architecture'>): void {
  const regressionMethod = (REGRESSION_METHODS as readonly string[]).includes(options.method ?? '');
  if (project.meta.task === 'classification') {
    if (regressionMethod) throw new TrainingError(`"${options.method}" is the method of regression projects; this project classifies into ${project.classes.join(', ')}`);
    return;
  }
  if (options.method !== undefined && !regressionMethod) {
    throw new TrainingError(`"${options.method}" is a classification method; this regression project trains with ${REGRESSION_METHODS.join(', ')}`);
  }
  const networkOnly = (['epochs', 'batchSize', 'mcSamples', 'prior', 'priorPrecision', 'backbone', 'architecture'] as const).filter((k) => options[k] !== undefined);
  if (networkOnly.length) throw new TrainingError(`${networkOnly.join(', ')}: options of network training; the GP of a regression project has none`);
}

/**
 * Trains a new model version on the project's current class labels in a worker thread, measures it
 * on a held-out part of those labels, scores the unlabelled pool, and records all of it. The weights
 * are on disk before the version row exists, so an interrupted run leaves the previous version intact.
 */
export async function trainAndScore(project: Project, options: TrainOptions = {}): Promise<ModelVersion> {
  checkTrainTask(project, options);
  if (project.meta.task === 'regression') {
    return trainRegression(project, { seed: options.seed, heldOutFraction: options.heldOutFraction, onProgress: options.onProgress, signal: options.signal });
  }
  const images = listImages(project.db);
  const byId = new Map(images.map((image) => [image.id, image]));
  const labels = currentLabels(project.db);
  const labelled = labels.filter((l) => l.kind === 'class').map((l) => ({ sha256: byId.get(l.imageId)!.sha256, classIdx: l.classIdx! }));
  if (labelled.length < 2) throw new TrainingError(`training needs at least 2 labelled images (have ${labelled.length})`);
  if (new Set(labelled.map((l) => l.classIdx)).size < 2) throw new TrainingError('training needs labels of at least two classes');
  const labelledIds = new Set(labels.filter((l) => l.kind === 'class' || l.kind === 'unsure').map((l) => l.imageId));
  const pool = images.filter((image) => !labelledIds.has(image.id));

  const seed = options.seed ?? 0;
  const { train, heldOut } = splitHeldOut(labelled, options.heldOutFraction ?? 0.2, seed);
  const method = (options.method ?? 'mc-dropout') as TrainRequest['method'];
  if ((method === 'lora-ensemble' || method === 'lora-laplace') && options.architecture !== undefined) {
    throw new TrainingError(`${method} trains adapters on the imported backbone: it has no architecture of its own (remove --architecture)`);
  }
  const backbone = checkedBackbone(method, options.backbone, project);
  checkTrainPrior(method, options.prior, options.priorPrecision);
  const architecture = backbone ? undefined : checkedTrainArchitecture(project, options.architecture);
  const request: TrainRequest = {
    method,
    ...(architecture ? { architecture } : {}),
    imageSize: project.meta.imageSize,
    channels: project.meta.channels,
    numClasses: project.classes.length,
    epochs: options.epochs ?? defaultEpochs(train.length, options.batchSize ?? 64),
    batchSize: options.batchSize ?? 64,
    learningRate: method === 'ivon' || method === 'sgld' ? undefined : 1e-3,
    weightDecay: 1e-4,
    mcSamples: options.mcSamples ?? 20,
    seed,
    ...(backbone ? { backbone } : {}),
    ...(options.prior ? { prior: options.prior } : {}),
    ...(options.priorPrecision !== undefined ? { priorPrecision: options.priorPrecision } : {}),
    trainX: stackInputs(project, train.map((e) => e.sha256)),
    trainY: Int32Array.from(train.map((e) => e.classIdx)),
    heldOutX: stackInputs(project, heldOut.map((e) => e.sha256)),
    heldOutY: Int32Array.from(heldOut.map((e) => e.classIdx)),
    poolX: stackInputs(project, pool.map((image) => image.sha256)),
  };
  const result = await runWorker<TrainRequest, TrainProgress, TrainResult>(new URL('./trainWorker.ts', import.meta.url), request, {
    onProgress: options.onProgress,
    signal: options.signal,
    transfer: [request.trainX.buffer, request.heldOutX.buffer, request.poolX.buffer] as ArrayBuffer[],
  });

  const weightsFile = writeModelDir(project, { 'posterior.json': result.posteriorJson, 'weights.bin': new Uint8Array(result.weights) });

  const { trainX, trainY, heldOutX, heldOutY, poolX, ...hyper } = request;
  // One transaction: a crash cannot leave the newest version without its scores.
  const version = project.db.transaction(() => {
    const inserted = insertModelVersion(project.db, {
      method: request.method,
      hyper: { ...hyper, trainImages: train.length, heldOutImages: heldOut.length, scoreSeconds: result.scoreSeconds, ...(result.inclusion ? { inclusion: result.inclusion } : {}) },
      backend: result.backend,
      metrics: result.metrics,
      nLabels: labelled.length,
      trainSeconds: result.trainSeconds,
      weightsFile,
    });
    replaceScores(project.db, inserted.id, unpackScores(pool.map((image) => image.id), result.scores, project.classes.length));
    return inserted;
  })();
  const idOf = new Map(images.map((image) => [image.sha256, image.id]));
  const featureIds = [...train, ...heldOut].map((e) => idOf.get(e.sha256)!).concat(pool.map((image) => image.id));
  cacheTrainingFeatures(project, version.id, featureIds, result.features);
  return version;
}
