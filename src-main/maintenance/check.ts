import fs from 'node:fs';
import { listImages } from '../db/images.ts';
import type { Project } from '../db/project.ts';
import { cachePath, readCachedMeta, sha256Hex } from '../import/cache.ts';

export interface CheckReport {
  integrity: string[];
  images: number;
  missingCache: string[];
  damagedCache: string[];
  missingSources: string[];
  ok: boolean;
}

/** PRAGMA integrity_check, then every cached model input against the hash recorded when it was made. */
export function checkProject(project: Project): CheckReport {
  const integrity = (project.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).filter((r) => r !== 'ok');
  const missingCache: string[] = [];
  const damagedCache: string[] = [];
  const missingSources: string[] = [];
  const images = listImages(project.db);
  const expectedBytes = project.meta.imageSize * project.meta.imageSize * project.meta.channels;
  for (const image of images) {
    if (!fs.existsSync(image.path)) missingSources.push(image.path);
    const inputFile = cachePath(project, image.sha256, 'input');
    if (!fs.existsSync(inputFile)) {
      missingCache.push(image.path);
      continue;
    }
    const input = fs.readFileSync(inputFile);
    const recorded = readCachedMeta(project, image.sha256).inputSha256;
    if (input.length !== expectedBytes || (recorded && recorded !== sha256Hex(input))) damagedCache.push(image.path);
  }
  return { integrity, images: images.length, missingCache, damagedCache, missingSources, ok: integrity.length === 0 && missingCache.length === 0 && damagedCache.length === 0 };
}
