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
  models: ModelVersion[];
}

export function projectStatus(project: Project): ProjectCounts {
  const labels = currentLabels(project.db);
  const perClass = project.classes.map((name) => ({ name, count: 0 }));
  let skipped = 0;
  let unsure = 0;
  for (const label of labels) {
    if (label.kind === 'class') perClass[label.classIdx!].count++;
    else if (label.kind === 'skip') skipped++;
    else unsure++;
  }
  const total = countImages(project.db);
  const labelled = perClass.reduce((sum, c) => sum + c.count, 0);
  return { total, unlabelled: total - labelled - unsure, skipped, unsure, perClass, models: listModelVersions(project.db) };
}
