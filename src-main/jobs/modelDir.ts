import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../db/project.ts';
import { writeFileAtomic } from '../import/cache.ts';

/**
 * Writes a model version's files into `models/<name>/` through a staging folder renamed at the end,
 * so a crash never leaves a half-written model under its final name. Returns the project-relative
 * folder recorded as the version's `weightsFile`.
 */
export function writeModelDir(project: Project, files: Record<string, string | Uint8Array>): string {
  const modelsDir = path.join(project.dir, 'models');
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  const staging = path.join(modelsDir, `.staging-${name}`);
  fs.mkdirSync(staging, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileAtomic(path.join(staging, file), data);
  fs.renameSync(staging, path.join(modelsDir, name));
  return path.join('models', name);
}
