import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A fresh temporary folder, removed when the test file finishes. */
export function tempDir(prefix = 'episteme-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const sharedMnist = path.join(sharedDir, 'data', 'mnist-t10k');
export const sharedDicom = path.join(sharedDir, 'data', 'dicom');
export const skipWithoutShared = (what: string) =>
  fs.existsSync(what) ? false : `../shared is absent (${what} not found): this test needs the shared data set`;
