/**
 * Interactive re-rank: after new labels, refit only a Bayesian last layer on the cached features of
 * the latest trained model version (featureCache.ts) and rescore the unlabelled images, in about a
 * second instead of a retrain. The result is a model version of its own ('last-layer', hyper.rerankOf
 * = the trained version, hyper.rerankCount = 1, 2, …) with its own scores, so a label records the
 * version that actually proposed the image; its folder holds a loadable 'last-layer' posterior (the
 * trained network's weights + the new head), so `predict` and `evaluate` reproduce its scores.
 *
 * The head math is plain JS on typed arrays (lastLayerHead.ts, headLogits.ts): no tfjs backend or
 * tensors are needed. Scoring yields to the event loop between chunks of images; a large pool is
 * split across worker threads (rerankWorker.ts), one shard per core.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatherRows } from '../bdl/util/rows.ts';
import { fitLastLayerHead, headState, headWeightSamples, prepareLogisticHead, type LastLayerHead } from '../bdl/posterior/lastLayerHead.ts';
import { unpackScores } from '../jobs/poolScores.ts';
import { runWorker } from '../jobs/runWorker.ts';
import type { PoolScores } from '../jobs/trainProtocol.ts';
import { listImages } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { getModelVersion, insertModelVersion, latestModelVersion, listModelVersions, replaceScores, type ModelVersion } from '../db/models.ts';
import type { Project } from '../db/project.ts';
import { writeFileAtomic } from '../import/cache.ts';
import { featuresPath, readCachedFeatures } from './featureCache.ts';
import { copyScores, emptyPoolScores, scoreHeadRows, type HeadScoringJob } from './headScoring.ts';

export type RerankModel = 'linear' | 'logistic';

export interface RerankOptions {
  /** 'linear' (default: closed form, fast) or 'logistic' (Laplace softmax regression, seconds per fit). */
  model?: RerankModel;
  /** S, posterior samples per image (default 20). */
  samples?: number;
  seed?: number;
  /** Worker threads for the scoring (default: one per core, at most 4, for pools of 20,000 rows or more; 1 = the main thread). */
  workers?: number;
}

export class RerankError extends Error {}

/** Pools from this size on are scored on worker threads, one shard per core: below it, starting them costs more than they save. */
const PARALLEL_MIN_ROWS = 20_000;

export interface FeatureRerank {
  head: LastLayerHead;
  /** Scores of the `scoreRows`, in that order. */
  scores: PoolScores;
  fitSeconds: number;
  scoreSeconds: number;
}

/**
 * Fits the head on the labelled rows of Φ [N, D] and scores the other given rows with S samples
 * (BALD etc. from [S, n, C], chunk by chunk, yielding in between).
 */
export async function rerankFeatures(
  phi: Float32Array,
  dim: number,
  labelledRows: ArrayLike<number>,
  labels: Int32Array,
  scoreRows: ArrayLike<number>,
  numClasses: number,
  options: RerankOptions = {},
): Promise<FeatureRerank> {
  const S = options.samples ?? 20;
  if (!(Number.isInteger(S) && S >= 1 && S <= 1000)) throw new RerankError(`samples must be an integer in [1, 1000], got ${S}`);
  if (options.workers !== undefined && !(Number.isInteger(options.workers) && options.workers >= 1 && options.workers <= 64)) throw new RerankError(`workers must be an integer in [1, 64], got ${options.workers}`);
  if (labelledRows.length !== labels.length) throw new RerankError(`${labelledRows.length} labelled rows but ${labels.length} labels`);
  const started = performance.now();
  const head = await fitLastLayerHead(gatherRows(phi, dim, labelledRows), dim, labels, numClasses, { model: options.model ?? 'linear' });
  const fitSeconds = (performance.now() - started) / 1000;
  const scoringStarted = performance.now();
  const w = headWeightSamples(head, dim + 1, numClasses, S, options.seed ?? 0, head.kind === 'logistic' ? prepareLogisticHead(head) : undefined);
  const job = { kind: head.kind, dim, w, samples: S, numClasses };
  const n = scoreRows.length;
  const shards = options.workers ?? (n >= PARALLEL_MIN_ROWS ? Math.min(4, os.availableParallelism()) : 1);
  const scores =
    shards <= 1
      ? await scoreHeadRows({ ...job, phi: gatherRows(phi, dim, scoreRows) }, () => new Promise((resolve) => setImmediate(resolve)))
      : await scoreInShards(phi, scoreRows, job, shards);
  return { head, scores, fitSeconds, scoreSeconds: (performance.now() - scoringStarted) / 1000 };
}

export interface RerankResult {
  modelVersion: ModelVersion;
  baseVersionId: number;
  rerankCount: number;
  /** Class labels the head was fitted on. */
  labels: number;
  /** Labelled images left out because the trained version has no features for them (imported later). */
  labelsWithoutFeatures: number;
  scored: number;
  seconds: { fit: number; score: number; write: number; total: number };
}

/** The trained version the next re-rank builds on: the latest version, or the one it re-ranked. */
export function rerankBase(project: Project): ModelVersion {
  const latest = latestModelVersion(project.db);
  if (!latest) throw new RerankError('no model version yet: train a model first ("episteme train")');
  const baseId = typeof latest.hyper.rerankOf === 'number' ? latest.hyper.rerankOf : latest.id;
  const base = getModelVersion(project.db, baseId);
  if (!base) throw new RerankError(`model version ${baseId} (the base of the latest re-rank) is missing`);
  // The saved re-rank is a last-layer posterior on the base's Gal CNN; a LoRA backbone is not one.
  if (base.method.startsWith('lora-')) throw new RerankError(`re-rank needs a Gal CNN trunk; version ${base.id} is a ${base.method} model: train again to refresh the queue`);
  return base;
}

/** The trained version a re-rank would build on, when one can run now (classification, cached features); else null. */
export function rerankableBase(project: Project): number | null {
  if (project.meta.task === 'regression' || !latestModelVersion(project.db)) return null;
  try {
    const base = rerankBase(project);
    return fs.existsSync(featuresPath(project, base.id)) ? base.id : null;
  } catch (error) {
    if (error instanceof RerankError) return null;
    throw error;
  }
}

/** Re-ranks the project's unlabelled images from the latest trained version's cached features. */
export async function rerankProject(project: Project, options: RerankOptions = {}): Promise<RerankResult> {
  const started = performance.now();
  if (project.meta.task === 'regression') throw new RerankError('re-rank is for classification projects; retrain the GP ("episteme train" or Train on the Model tab)');
  const latestAtStart = latestModelVersion(project.db);
  const base = rerankBase(project);
  const cached = readCachedFeatures(project, base.id);
  if (!cached) throw new RerankError(`model version ${base.id} has no cached features (trained before the cache existed, or the cache was cleared): train again`);
  const rowOf = new Map<number, number>();
  cached.imageIds.forEach((id, row) => rowOf.set(id, row));

  const labels = currentLabels(project.db);
  const classLabels = labels.filter((l) => l.kind === 'class');
  const usable = classLabels.filter((l) => rowOf.has(l.imageId));
  if (usable.length < 2 || new Set(usable.map((l) => l.classIdx)).size < 2) {
    throw new RerankError(`re-rank needs labels of at least two classes among the images model version ${base.id} has features for (have ${usable.length})`);
  }
  const labelledIds = new Set(labels.filter((l) => l.kind === 'class' || l.kind === 'unsure').map((l) => l.imageId));
  const pool = listImages(project.db).filter((image) => !labelledIds.has(image.id) && rowOf.has(image.id));
  const model = options.model ?? 'linear';
  const samples = options.samples ?? 20;
  const seed = options.seed ?? 0;
  const result = await rerankFeatures(
    cached.features,
    cached.dim,
    usable.map((l) => rowOf.get(l.imageId)!),
    Int32Array.from(usable, (l) => l.classIdx!),
    pool.map((image) => rowOf.get(image.id)!),
    project.classes.length,
    { model, samples, seed },
  );

  const writeStarted = performance.now();
  // A training that finished meanwhile is newer than this re-rank's base: saving would hide it.
  if (latestModelVersion(project.db)?.id !== latestAtStart?.id) throw new RerankError('a newer model version was saved during the re-rank: nothing saved (the queue already follows the new version)');
  const rerankCount = 1 + listModelVersions(project.db).filter((v) => v.hyper.rerankOf === base.id).length;
  const weightsFile = writeRerankPosterior(project, base, result.head, { model, samples, seed, seconds: result.fitSeconds });
  // One transaction: a crash cannot leave the newest version without its scores.
  const version = project.db.transaction(() => {
    const saved = insertModelVersion(project.db, {
      method: 'last-layer',
      hyper: {
        rerankOf: base.id,
        rerankCount,
        trunkMethod: base.method,
        lastLayerModel: model,
        mcSamples: samples,
        seed,
        trainImages: usable.length,
        scoreSeconds: result.scoreSeconds,
      },
      backend: 'js',
      metrics: null,
      nLabels: classLabels.length,
      trainSeconds: result.fitSeconds,
      weightsFile,
    });
    replaceScores(project.db, saved.id, unpackScores(pool.map((image) => image.id), result.scores, project.classes.length));
    return saved;
  })();
  const write = (performance.now() - writeStarted) / 1000;
  return {
    modelVersion: version,
    baseVersionId: base.id,
    rerankCount,
    labels: usable.length,
    labelsWithoutFeatures: classLabels.length - usable.length,
    scored: pool.length,
    seconds: { fit: result.fitSeconds, score: result.scoreSeconds, write, total: (performance.now() - started) / 1000 },
  };
}

/**
 * The re-rank as a 'last-layer' posterior: the trained version's network (weights hard-linked, or
 * copied where links are not possible) and the new head as its state. Staged, then renamed.
 */
function writeRerankPosterior(project: Project, base: ModelVersion, head: LastLayerHead, o: { model: RerankModel; samples: number; seed: number; seconds: number }): string {
  const baseDir = path.join(project.dir, base.weightsFile);
  const baseJson = JSON.parse(fs.readFileSync(path.join(baseDir, 'posterior.json'), 'utf8')) as Record<string, unknown> & { options: Record<string, unknown> };
  const json = {
    ...baseJson,
    method: 'last-layer',
    options: {
      method: 'last-layer',
      imageSize: baseJson.options.imageSize,
      channels: baseJson.options.channels,
      numClasses: baseJson.options.numClasses,
      seed: o.seed,
      mcSamples: o.samples,
      lastLayerModel: o.model,
    },
    state: headState(head, o.seconds),
  };
  const modelsDir = path.join(project.dir, 'models');
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-rerank-${Math.random().toString(36).slice(2, 8)}`;
  const staging = path.join(modelsDir, `.staging-${name}`);
  fs.mkdirSync(staging, { recursive: true });
  try {
    fs.linkSync(path.join(baseDir, 'weights.bin'), path.join(staging, 'weights.bin'));
  } catch {
    fs.copyFileSync(path.join(baseDir, 'weights.bin'), path.join(staging, 'weights.bin'));
  }
  writeFileAtomic(path.join(staging, 'posterior.json'), JSON.stringify(json));
  fs.renameSync(staging, path.join(modelsDir, name));
  return path.join('models', name);
}

/** Scores the rows in `shards` worker threads at once (rerankWorker.ts), each on its own copy of its rows. */
async function scoreInShards(phi: Float32Array, rows: ArrayLike<number>, job: Omit<HeadScoringJob, 'phi'>, shards: number): Promise<PoolScores> {
  const n = rows.length;
  const bounds = Array.from({ length: shards + 1 }, (_, k) => Math.round((k * n) / shards));
  const parts = await Promise.all(
    bounds.slice(0, -1).map((lo, k) => {
      const shard = gatherRows(phi, job.dim, Array.prototype.slice.call(rows, lo, bounds[k + 1]) as number[]);
      return runWorker<HeadScoringJob, never, PoolScores>(new URL('./rerankWorker.ts', import.meta.url), { ...job, phi: shard }, { transfer: [shard.buffer as ArrayBuffer] });
    }),
  );
  const scores = emptyPoolScores(n, job.numClasses);
  parts.forEach((part, k) => copyScores(part, scores, bounds[k], job.numClasses));
  return scores;
}
