import fs from 'node:fs';
import path from 'node:path';
import { initProject, isProjectDir, openProject, type Project } from '../db/project.ts';
import { importPaths, type ImportSummary } from '../import/importer.ts';
import { formatCsv } from '../util/csv.ts';
import { DEMO_CLASSES, generateLesionImages } from './lesions.ts';

export const DEMO_IMAGE_COUNT = 240;

/**
 * Makes (or reopens) the demo project: synthetic lesion images in `<dir>/images`, with their true
 * labels in `<dir>/images/ground-truth.csv` for `episteme evaluate` and simulations, none labelled.
 */
export async function createDemoProject(dir: string, options: { count?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<{ project: Project; summary: ImportSummary | null }> {
  if (isProjectDir(dir)) return { project: openProject(dir), summary: null };
  const imagesDir = path.join(dir, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });
  const images = await generateLesionImages(options.count ?? DEMO_IMAGE_COUNT);
  for (const image of images) fs.writeFileSync(path.join(imagesDir, image.fileName), image.png);
  fs.writeFileSync(path.join(imagesDir, 'ground-truth.csv'), formatCsv([['path', 'label'], ...images.map((i) => [i.fileName, i.label])]));
  const project = initProject(dir, { name: 'Demo: skin lesions (synthetic)', classes: [...DEMO_CLASSES], imageSize: 28, channels: 3 });
  const summary = await importPaths(project, [imagesDir], { onProgress: (p) => options.onProgress?.(p.done, p.total) });
  return { project, summary };
}
