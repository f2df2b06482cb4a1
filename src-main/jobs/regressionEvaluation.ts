import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { findImageBySha } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { latestModelVersion, type RegressionMetrics } from '../db/models.ts';
import type { Project } from '../db/project.ts';
import { decodeImage, toModelInput } from '../imaging/index.ts';
import { hasCachedViews, readCachedInput } from '../import/cache.ts';
import type { ImportFailure } from '../import/importer.ts';
import { regressionMetrics } from '../regression/gpRegressor.ts';
import { parseTargetValue } from '../regression/values.ts';
import { parseCsvRecords } from '../util/csv.ts';
import { predictRegressionWithVersion } from './regressionTraining.ts';
import { TrainingError } from './training.ts';

export interface RegressionEvaluationReport {
  modelVersionId: number;
  method: string;
  evaluated: number;
  /** Rows skipped because the image carries a label in the project (it may have been trained on). */
  excludedAsLabelled: number;
  failed: ImportFailure[];
  metrics: RegressionMetrics;
}

/**
 * Measures the latest GP regression version on a CSV (`path,label`, numeric labels) of images it was
 * not trained on: RMSE, MAE, Gaussian NLL and coverage of the 90% predictive interval.
 */
export async function evaluateRegressionOnCsv(project: Project, csvPath: string, options: { onProgress?: (fraction: number) => void } = {}): Promise<RegressionEvaluationReport> {
  const version = latestModelVersion(project.db);
  if (!version) throw new TrainingError('no model version yet: run "episteme train" first');
  const records = parseCsvRecords(await fs.readFile(csvPath, 'utf8'), ['path', 'label']);
  const labelled = new Set(currentLabels(project.db).filter((l) => l.kind === 'value').map((l) => l.imageId));
  const { imageSize, channels } = project.meta;
  const inputs: Uint8Array[] = [];
  const targets: number[] = [];
  const failed: ImportFailure[] = [];
  let excludedAsLabelled = 0;
  for (const record of records) {
    const file = path.resolve(path.dirname(csvPath), record.path);
    const parsed = parseTargetValue(project, record.label);
    if ('error' in parsed) {
      failed.push({ path: file, code: 'bad-value', message: parsed.error });
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
      targets.push(parsed.value);
    } catch (error) {
      failed.push({ path: file, code: (error as { code?: string }).code ?? 'unreadable', message: error instanceof Error ? error.message : String(error) });
    }
  }
  if (inputs.length === 0) throw new TrainingError('no image of the CSV could be evaluated (all failed or all are labelled in the project)');
  const stride = imageSize * imageSize * channels;
  const x = new Uint8Array(inputs.length * stride);
  inputs.forEach((input, i) => x.set(input, i * stride));
  const prediction = await predictRegressionWithVersion(project, version, x, { onProgress: options.onProgress });
  return { modelVersionId: version.id, method: version.method, evaluated: inputs.length, excludedAsLabelled, failed, metrics: regressionMetrics(prediction, targets) };
}
