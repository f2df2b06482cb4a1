import { listImages, type ImageRow } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { latestModelVersion, scoresOf, type ImageScore } from '../db/models.ts';
import type { Project, Task } from '../db/project.ts';
import { regressionScoresOf, type RegressionScore } from '../db/regressionScores.ts';

export const QUEUE_ACQUISITIONS = ['bald', 'entropy', 'margin', 'var-ratios', 'mean-std', 'variance', 'random'] as const;
export type QueueAcquisition = (typeof QUEUE_ACQUISITIONS)[number];
/**
 * Regression projects rank by 'variance': the posterior variance of the GP's latent function at the
 * image (epistemic uncertainty; the fitted label noise is left out, as labelling cannot reduce it).
 */
const ACQUISITIONS_OF_TASK: Record<Task, readonly QueueAcquisition[]> = {
  classification: ['bald', 'entropy', 'margin', 'var-ratios', 'mean-std', 'random'],
  regression: ['variance', 'random'],
};

export class QueueError extends Error {}

/** How each acquisition reads a stored score, and whether larger is more informative. */
const SCORE_OF: Record<Exclude<QueueAcquisition, 'variance'>, { read: (s: ImageScore, imageId: number, salt: number) => number; direction: 'max' | 'min' }> = {
  bald: { read: (s) => s.epistemic, direction: 'max' },
  entropy: { read: (s) => s.entropy, direction: 'max' },
  margin: { read: (s) => s.margin, direction: 'min' },
  'var-ratios': { read: (s) => s.varRatios, direction: 'max' },
  'mean-std': { read: (s) => s.meanStd, direction: 'max' },
  random: { read: (_s, imageId, salt) => hashUnit(imageId, salt), direction: 'max' },
};

/** A stable pseudo-random number in [0, 1) for an image, so "random" order does not jump about. */
function hashUnit(imageId: number, salt: number): number {
  let h = Math.imul(imageId ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

export interface QueueEntry {
  image: ImageRow;
  score: number | null;
  scores: ImageScore | null;
  /** Regression projects: the latest model's prediction. */
  estimate: RegressionScore | null;
  skipped: boolean;
}

export interface Queue {
  modelVersionId: number | null;
  /** The order used: null before any model, when the queue is a stable shuffle without scores. */
  acquisition: QueueAcquisition | null;
  entries: QueueEntry[];
}

/**
 * The unlabelled images, most informative first under the chosen acquisition function, read from the
 * latest model version's stored scores. Skipped images go last; images imported after that model
 * scored the pool come after the scored ones. Without any model the order is a stable shuffle and
 * no image has a score.
 */
export function rankedQueue(project: Project, acquisition: QueueAcquisition): Queue {
  const allowed = ACQUISITIONS_OF_TASK[project.meta.task];
  if (!allowed.includes(acquisition)) throw new QueueError(`a ${project.meta.task} project is ranked by ${allowed.join(' or ')}, not ${acquisition}`);
  const labels = new Map(currentLabels(project.db).map((l) => [l.imageId, l.kind]));
  const model = latestModelVersion(project.db);
  const regression = project.meta.task === 'regression';
  const scores = new Map(model && !regression ? scoresOf(project.db, model.id).map((s) => [s.imageId, s]) : []);
  const estimates = new Map(model && regression ? regressionScoresOf(project.db, model.id).map((s) => [s.imageId, s]) : []);
  const salt = model?.id ?? 0;
  const scoreOf = (imageId: number): number | null => {
    if (acquisition === 'variance') return estimates.get(imageId)?.latentVariance ?? null;
    const stored = scores.get(imageId) ?? estimates.get(imageId);
    if (acquisition === 'random') return stored ? hashUnit(imageId, salt) : null;
    return stored ? SCORE_OF[acquisition].read(stored as ImageScore, imageId, salt) : null;
  };
  const direction = acquisition === 'variance' ? 'max' : SCORE_OF[acquisition].direction;
  const entries = listImages(project.db)
    .filter((image) => !['class', 'value', 'unsure'].includes(labels.get(image.id) ?? ''))
    .map((image) => {
      const score = scoreOf(image.id);
      const sortKey = model ? score : hashUnit(image.id, salt);
      return { image, score, sortKey, scores: scores.get(image.id) ?? null, estimate: estimates.get(image.id) ?? null, skipped: labels.get(image.id) === 'skip' };
    });
  const sign = direction === 'max' ? -1 : 1;
  entries.sort(
    (a, b) =>
      Number(a.skipped) - Number(b.skipped) ||
      Number(a.sortKey === null) - Number(b.sortKey === null) ||
      (model ? sign : -1) * ((a.sortKey ?? 0) - (b.sortKey ?? 0)) ||
      a.image.id - b.image.id,
  );
  return { modelVersionId: model?.id ?? null, acquisition: model ? acquisition : null, entries: entries.map(({ sortKey: _, ...entry }) => entry) };
}
