import { countImages } from '../db/images.ts';
import { currentLabels } from '../db/labels.ts';
import { listModelVersions, type ModelVersion } from '../db/models.ts';
import type { Project } from '../db/project.ts';

export interface ProjectCounts {
  total: number;
  unlabelled: number;
  skipped: number;
  unsure: number;
  perClass: { name: string; count: number }[];
  /** Regression projects: how many images have a value, and their range and mean; null otherwise. */
  values: { count: number; min: number | null; max: number | null; mean: number | null } | null;
  models: ModelVersion[];
}

export function projectStatus(project: Project): ProjectCounts {
  const labels = currentLabels(project.db);
  const perClass = project.classes.map((name) => ({ name, count: 0 }));
  let skipped = 0;
  let unsure = 0;
  const values: number[] = [];
  for (const label of labels) {
    if (label.kind === 'class') perClass[label.classIdx!].count++;
    else if (label.kind === 'value') values.push(label.value!);
    else if (label.kind === 'skip') skipped++;
    else unsure++;
  }
  const total = countImages(project.db);
  const labelled = perClass.reduce((sum, c) => sum + c.count, 0) + values.length;
  const summary =
    project.meta.task === 'regression'
      ? {
          count: values.length,
          min: values.length ? values.reduce((a, b) => Math.min(a, b)) : null,
          max: values.length ? values.reduce((a, b) => Math.max(a, b)) : null,
          mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
        }
      : null;
  return { total, unlabelled: total - labelled - unsure, skipped, unsure, perClass, values: summary, models: listModelVersions(project.db) };
}
