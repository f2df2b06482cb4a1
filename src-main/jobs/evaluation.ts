import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { evaluate, uncertaintyDecomposition } from '../bdl/index.ts';
import { classificationReport, type ClassificationReport } from '../bdl/clinicalMetrics.ts';
import { findImageBySha } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { latestModelVersion, type Metrics } from '../db/models.ts';
import type { Project } from '../db/project.ts';
import { decodeImage, toModelInput } from '../imaging/index.ts';
import { hasCachedViews, readCachedInput } from '../import/cache.ts';
import type { ImportFailure } from '../import/importer.ts';
import { parseCsvRecords } from '../util/csv.ts';
import { predictWithVersion } from './prediction.ts';
import { TrainingError } from './training.ts';

export interface EvaluationReport {
  modelVersionId: number;
  method: string;
  evaluated: number;
  /** Rows skipped because the image carries a label in the project (it may have been trained on). */
  excludedAsLabelled: number;
  failed: ImportFailure[];
  metrics: Metrics;
  /** Clinical metrics with bootstrap intervals (bdl/clinicalMetrics.ts); classes named as in the project. */
  clinical: ClassificationReport & { classes: string[] };
}

export interface EvaluateOptions {
  samples?: number;
  /** Two-class projects: P(positive) ≥ threshold → positive, instead of the argmax. */
  threshold?: number;
  /** Two-class projects: the class name sensitivity, PPV and AUROC are of (default the second class). */
  positive?: string;
  bootstrap?: number;
  /** The classes, in the project's order, are grades: adds QWK and the mean absolute grade error. */
  ordinal?: boolean;
  onProgress?: (fraction: number) => void;
}

/** Refuses, before any image is read, options the project cannot take; returns the positive class index. */
export function checkEvaluateOptions(project: Project, options: Omit<EvaluateOptions, 'onProgress'>): number | undefined {
  const classification = ['threshold', 'positive', 'bootstrap', 'ordinal'] as const;
  if (project.meta.task === 'regression') {
    const given = classification.filter((name) => options[name] !== undefined);
    if (given.length > 0) throw new TrainingError(`${given.map((name) => `--${name}`).join(', ')}: for classification projects; this is a regression project`);
    return undefined;
  }
  const C = project.classes.length;
  if (options.threshold !== undefined) {
    if (C !== 2) throw new TrainingError(`--threshold is for two-class projects; this one has ${C} classes (${project.classes.join(', ')})`);
    if (!(options.threshold > 0 && options.threshold < 1)) throw new TrainingError(`--threshold must be in (0, 1), not ${options.threshold}`);
  }
  if (options.positive === undefined) return undefined;
  if (C !== 2) throw new TrainingError(`--positive is for two-class projects; this one has ${C} classes`);
  const index = project.classes.findIndex((name) => name.toLowerCase() === options.positive!.toLowerCase());
  if (index < 0) throw new TrainingError(`--positive "${options.positive}" is not one of ${project.classes.join(', ')}`);
  return index;
}

/**
 * Measures the latest model version on a labelled CSV (`path,label`) of images the model was not
 * trained on; images are decoded on the fly when they are not imported.
 */
export async function evaluateOnCsv(project: Project, csvPath: string, options: EvaluateOptions = {}): Promise<EvaluationReport> {
  if (project.meta.task === 'regression') throw new TrainingError('this is a regression project: evaluate it with evaluateRegressionOnCsv (numeric labels)');
  const positiveClass = checkEvaluateOptions(project, options);
  const version = latestModelVersion(project.db);
  if (!version) throw new TrainingError('no model version yet: run "episteme train" first');
  const records = parseCsvRecords(await fs.readFile(csvPath, 'utf8'), ['path', 'label']);
  const classIndex = new Map(project.classes.map((name, idx) => [name.toLowerCase(), idx]));
  const labelled = new Set(currentLabels(project.db).filter((l) => l.kind === 'class').map((l) => l.imageId));
  const { imageSize, channels } = project.meta;
  const stride = imageSize * imageSize * channels;
  const inputs: Uint8Array[] = [];
  const targets: number[] = [];
  const failed: ImportFailure[] = [];
  let excludedAsLabelled = 0;
  for (const record of records) {
    const file = path.resolve(path.dirname(csvPath), record.path);
    const classIdx = classIndex.get(record.label.toLowerCase());
    if (classIdx === undefined) {
      failed.push({ path: file, code: 'unknown-class', message: `label "${record.label}" is not one of ${project.classes.join(', ')}` });
      continue;
    }
    try {
      const bytes = await fs.readFile(file);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const image = findImageBySha(project.db, sha256);
      if (image && labelled.has(image.id)) {
        excludedAsLabelled++;
        continue;
      }
      inputs.push(image && hasCachedViews(project, sha256) ? readCachedInput(project, sha256) : await toModelInput(await decodeImage(bytes, file), imageSize, channels));
      targets.push(classIdx);
    } catch (error) {
      failed.push({ path: file, code: (error as { code?: string }).code ?? 'unreadable', message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (inputs.length === 0) throw new TrainingError('no image of the CSV could be evaluated (all failed or all are labelled in the project)');
  const x = new Uint8Array(inputs.length * stride);
  inputs.forEach((input, i) => x.set(input, i * stride));
  const predicted = await predictWithVersion(project, version, x, { samples: options.samples, onProgress: options.onProgress });
  const mean = uncertaintyDecomposition({ probs: predicted.probs, shape: predicted.shape }).mean;
  const labels = Int32Array.from(targets);
  const metrics = { ...evaluate(mean, labels, project.classes.length), heldOut: inputs.length };
  const clinical = { ...classificationReport(mean, labels, { threshold: options.threshold, positiveClass, bootstrap: options.bootstrap, ordinal: options.ordinal }), classes: project.classes };
  return { modelVersionId: version.id, method: version.method, evaluated: inputs.length, excludedAsLabelled, failed, metrics, clinical };
}
